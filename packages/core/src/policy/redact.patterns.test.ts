// redactString's patterns, shape by shape: every credential in a string (not only the first), whatever the case of
// its scheme or name, a name with a prefix or spaces around its `=`, a quote left open, and where an unquoted value
// ends (at a comma only when the next `name=` starts there). Each secret holds SECRET so a leak is easy to see.
import { describe, expect, it } from 'vitest';
import { redactString } from './redact.js';

function hides(input: string, expected: string): void {
  expect(redactString(input)).toBe(expected);
  expect(redactString(input)).not.toContain('SECRET');
}

describe('redactString: URL credentials', () => {
  it('every URL of a string, not only the first', () => {
    hides(
      'primary redis://u:aSECRET@h1:6379, replica redis://u:bSECRET@h2:6379',
      'primary redis://u:***@h1:6379, replica redis://u:***@h2:6379',
    );
  });

  it('whatever the case of the scheme', () => {
    hides('MYSQL://Root:aSECRET@db/app', 'MYSQL://Root:***@db/app');
    hides('Https://elastic:bSECRET@es:9200', 'Https://elastic:***@es:9200');
  });
});

describe('redactString: Go-style DSNs', () => {
  it('every DSN of a string, not only the first', () => {
    hides(
      'a=u:aSECRET@tcp(h1:3306)/db b=v:bSECRET@unix(/tmp/s)/db',
      'a=u:***@tcp(h1:3306)/db b=v:***@unix(/tmp/s)/db',
    );
  });

  it('whatever the case of the protocol', () => {
    hides('u:aSECRET@TCP(h:3306)/db', 'u:***@TCP(h:3306)/db');
  });
});

describe('redactString: name=value pairs', () => {
  it('at the very start of the string, and after any separator', () => {
    hides('password=aSECRET', 'password=***');
    hides('x;token=aSECRET', 'x;token=***');
    hides('?auth=aSECRET', '?auth=***');
  });

  it('with a prefix on the name', () => {
    hides('host=db sslpassword=aSECRET', 'host=db sslpassword=***');
    hides('db.password=aSECRET', 'db.password=***');
    hides('x-api-key=aSECRET', 'x-api-key=***');
    hides('my_token=aSECRET', 'my_token=***');
  });

  it('with any spelling of the names', () => {
    hides('apikey=aSECRET api-key=bSECRET', 'apikey=*** api-key=***');
    hides(
      'accesskey=aSECRET access_key=bSECRET access-key=cSECRET',
      'accesskey=*** access_key=*** access-key=***',
    );
    hides('credential=aSECRET credentials=bSECRET', 'credential=*** credentials=***');
    hides('authorization=aSECRET passphrase=bSECRET', 'authorization=*** passphrase=***');
    hides('PASSWORD=aSECRET Token=bSECRET', 'PASSWORD=*** Token=***');
  });

  it('with any number of spaces around the =', () => {
    hides('password  =  aSECRET x', 'password  =  *** x');
    hides('password\t=aSECRET x', 'password\t=*** x');
  });

  it('a quoted value holding spaces, closed or left open', () => {
    hides('token="a b SECRET" x=1', 'token=*** x=1');
    hides("token='a b SECRET' x=1", 'token=*** x=1');
    hides('password="abSECRET', 'password=***');
    hides("password='abSECRET", 'password=***');
  });

  it('an unquoted value ends at whitespace, &, #, ; and quotes', () => {
    hides('password=aSECRET rest', 'password=*** rest');
    hides('password=aSECRET&rest', 'password=***&rest');
    hides('password=aSECRET#rest', 'password=***#rest');
    hides('password=aSECRET;rest', 'password=***;rest');
    hides('password=aSECRET"rest', 'password=***"rest');
  });

  it('a comma ends an unquoted value only where the next name= starts', () => {
    hides('password=aSECRET,user=u,port=1', 'password=***,user=u,port=1');
    hides('password=aSECRET,sslmode =require', 'password=***,sslmode =require');
    hides('password=a,b,cSECRET', 'password=***');
  });
});
