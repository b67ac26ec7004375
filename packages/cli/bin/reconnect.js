#!/usr/bin/env node
// A plain JS entry that exists before the build, so npm can link the bin at install time.
import { main } from '../dist/main.js';

process.exitCode = await main(process.argv.slice(2));
