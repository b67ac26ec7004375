import { esError, type EsResponse } from './es-errors.js';

// REST API compatibility as Elasticsearch checks it (RestCompatibleVersionHelper): a vendored media
// type `application/vnd.elasticsearch+json; compatible-with=N` may name the server's major or the one
// before; when the request has a body, Accept and Content-Type must both name a version or neither,
// and the same one. A 9.x client talking to an 8.x server fails here (elasticsearch-js #2909).

/** The outcome of checking a request's Accept and Content-Type headers. */
export type Negotiation =
  | {
      ok: true;
      /** The compatible-with version requested, if any. */
      compatibleWith: number | undefined;
      /** The Content-Type of the response. */
      contentType: string;
    }
  | { ok: false; response: EsResponse };

interface Parsed {
  raw: string;
  vendored: boolean;
  /** `compatible-with`, when given. */
  version: number | undefined;
  /** e.g. `application/json`, `application/x-ndjson`, `application/vnd.elasticsearch+json`. */
  essence: string;
}

function parse(header: string | undefined): Parsed | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  // Accept may list several types; the client sends `…; compatible-with=9,text/plain`.
  const first = header.split(',')[0]!.trim();
  const [essence = '', ...params] = first.split(';').map((p) => p.trim().toLowerCase());
  let version: number | undefined;
  for (const param of params) {
    const m = /^compatible-with=(\d+)$/.exec(param);
    if (m !== null) version = Number(m[1]);
  }
  return { raw: header, vendored: essence.startsWith('application/vnd.elasticsearch+'), version, essence };
}

const bodyTypes = new Set([
  'application/json',
  'application/x-ndjson',
  'application/vnd.elasticsearch+json',
  'application/vnd.elasticsearch+x-ndjson',
]);

function mediaTypeError(detail: string): EsResponse {
  const headers = 'Invalid media-type value on headers [Accept, Content-Type]';
  return esError(
    400,
    'media_type_header_exception',
    headers,
    {},
    { type: 'status_exception', reason: detail },
  );
}

/** Checks the headers of a request against a server of major version `major`. */
export function negotiate(
  accept: string | undefined,
  contentType: string | undefined,
  hasBody: boolean,
  major: number,
): Negotiation {
  const a = parse(accept);
  const c = hasBody ? parse(contentType) : undefined;
  const allowed = (v: number): boolean => v === major || v === major - 1;
  if (a?.version !== undefined && !allowed(a.version)) {
    return {
      ok: false,
      response: mediaTypeError(
        `Accept version must be either version ${major} or ${major - 1}, but found ${a.version}. Accept=${a.raw}`,
      ),
    };
  }
  if (c?.version !== undefined && !allowed(c.version)) {
    return {
      ok: false,
      response: mediaTypeError(
        `Content-Type version must be either version ${major} or ${major - 1}, but found ${c.version}. Content-Type=${c.raw}`,
      ),
    };
  }
  if (hasBody) {
    if (c !== undefined && !bodyTypes.has(c.essence)) {
      return {
        ok: false,
        response: {
          status: 406,
          body: { error: `Content-Type header [${c.raw}] is not supported`, status: 406 },
        },
      };
    }
    const av = a?.version;
    const cv = c?.version;
    if ((av === undefined) !== (cv === undefined) || (av !== undefined && av !== cv)) {
      return {
        ok: false,
        response: mediaTypeError(
          'A compatible version is required on both Content-Type and Accept headers if either one has requested a ' +
            `compatible version and the compatible versions must match. Accept=${a?.raw ?? 'null'}, Content-Type=${c?.raw ?? 'null'}`,
        ),
      };
    }
  }
  const version = a?.version ?? c?.version;
  return {
    ok: true,
    compatibleWith: version,
    contentType:
      version === undefined
        ? 'application/json'
        : `application/vnd.elasticsearch+json;compatible-with=${version}`,
  };
}
