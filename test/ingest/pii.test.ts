import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { hashPii, hashUserData, normalisePii, pseudonymiseId, redactRaw, redactText, scrubProperties } from '../../src/ingest/index.js';
import { scrubContext } from '../../src/ingest/pii.js';

/**
 * Reference hashes published by Meta in "Customer Information Parameters" (Conversions API),
 * https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/customer-information-parameters
 * (each also checked with `printf '%s' <normalised> | sha256sum`).
 */
const META = {
  /** em — Input: John_Smith@gmail.com, normalised john_smith@gmail.com */
  email: '62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f',
  /** ph — Input: US phone number (650)555-1212, normalised 16505551212 */
  phone: 'e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176',
  /** fn — Input: Mary, normalised mary */
  mary: '6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec',
  /** fn — Input: 정 */
  jeong: '8fa8cd9c440be61d0151429310034083132b35975c4bea67fdd74158eb51db14',
  /** fn — Input: Valéry, normalised valéry */
  valery: '08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c',
};

/**
 * No published example found for these fields: computed independently in the shell with
 * `printf '%s' '<normalised value>' | sha256sum`.
 */
const SHELL = {
  southsanfrancisco: 'e6a4de398edea64e0e057033d684bebe76c975d00b1c919471703d318fb05d7f',
  ca: '6959097001d10501ac7d54c0bdb8db61420f658f2922cc26e46d536119a31126',
  zip94035: '1794327a4d443904421f5ca1f3d72d0a62ba2f0770d80755ec2220fc0efb052e',
  us: '79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621',
  smith: '6627835f988e2c5e50533d491163072d3f4f41f5c8b04630150debb3722ca2dd',
  sw1a1aa: '830e1d4b9838bab1f5c2acdb23e0b502ff13a9832c4632e8d67a1d43d3b7f614',
};

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

describe('normalisePii', () => {
  it('trims and lowercases an email', () => {
    assert.equal(normalisePii('email', '  John_Smith@Gmail.COM \n'), 'john_smith@gmail.com');
  });

  it('reduces a phone number to E.164 digits without + or leading zeros', () => {
    assert.equal(normalisePii('phone', '+1 (650) 555-1212'), '16505551212');
    assert.equal(normalisePii('phone', '0044 844 412 4653'), '448444124653');
    assert.equal(normalisePii('phone', '+44 844 412 4653'), '448444124653');
  });

  it('trims and lowercases names, keeping letters outside a-z', () => {
    assert.equal(normalisePii('firstName', ' Mary '), 'mary');
    assert.equal(normalisePii('lastName', 'SMITH'), 'smith');
    assert.equal(normalisePii('firstName', 'Valéry'), 'valéry');
  });

  it('drops spaces and punctuation from a city', () => {
    assert.equal(normalisePii('city', 'South San Francisco'), 'southsanfrancisco');
    assert.equal(normalisePii('city', 'St. Louis'), 'stlouis');
  });

  it('lowercases state and country codes and removes spaces from postal codes', () => {
    assert.equal(normalisePii('state', ' CA '), 'ca');
    assert.equal(normalisePii('country', 'US'), 'us');
    assert.equal(normalisePii('postalCode', 'SW1A 1AA'), 'sw1a1aa');
  });
});

describe('hashPii', () => {
  it('matches Meta\'s published email hash', () => {
    assert.equal(hashPii('email', 'John_Smith@gmail.com'), META.email);
    assert.equal(hashPii('email', '  JOHN_SMITH@GMAIL.COM  '), META.email);
  });

  it('matches Meta\'s published phone hash', () => {
    assert.equal(hashPii('phone', '+1 (650) 555-1212'), META.phone);
    assert.equal(hashPii('phone', '16505551212'), META.phone);
  });

  it('matches Meta\'s published first-name hashes, including UTF-8 names', () => {
    assert.equal(hashPii('firstName', 'Mary'), META.mary);
    assert.equal(hashPii('firstName', '정'), META.jeong);
    assert.equal(hashPii('firstName', 'Valéry'), META.valery);
    assert.equal(hashPii('lastName', 'Mary'), META.mary);
  });

  it('hashes the other fields after normalising them', () => {
    assert.equal(hashPii('city', 'South San Francisco'), SHELL.southsanfrancisco);
    assert.equal(hashPii('state', 'CA'), SHELL.ca);
    assert.equal(hashPii('postalCode', '94035'), SHELL.zip94035);
    assert.equal(hashPii('postalCode', 'SW1A 1AA'), SHELL.sw1a1aa);
    assert.equal(hashPii('country', 'US'), SHELL.us);
    assert.equal(hashPii('lastName', ' Smith'), SHELL.smith);
  });

  it('passes an already-hashed value through unchanged', () => {
    assert.equal(hashPii('email', META.email), META.email);
    assert.equal(hashPii('phone', ` ${META.phone} `), META.phone);
    assert.equal(hashPii('firstName', SHELL.smith), SHELL.smith);
  });

  it('hashes a value that only looks like hex but is not 64 characters', () => {
    const short = META.email.slice(0, 63);
    assert.equal(hashPii('email', short), sha256(short));
  });
});

describe('hashUserData', () => {
  it('hashes every field and leaves no raw value', () => {
    const raw = { email: 'John_Smith@gmail.com', phone: '+1 (650) 555-1212', firstName: 'Mary', city: 'South San Francisco', country: 'US' };
    assert.deepEqual(hashUserData(raw), {
      email: META.email, phone: META.phone, firstName: META.mary, city: SHELL.southsanfrancisco, country: SHELL.us,
    });
  });

  it('skips empty values and answers null when nothing is left', () => {
    assert.deepEqual(hashUserData({ email: '  ', phone: '+1 (650) 555-1212' }), { phone: META.phone });
    assert.equal(hashUserData({ email: '', firstName: '   ' }), null);
    assert.equal(hashUserData({}), null);
  });
});

describe('scrubProperties', () => {
  it('replaces an email-shaped property value by its hash', () => {
    assert.deepEqual(scrubProperties({ customer: ' John_Smith@gmail.com', plan: 'pro', n: 3 }), { customer: META.email, plan: 'pro', n: 3 });
  });

  it('leaves properties without an email as they are', () => {
    const props = { plan: 'pro', ok: true, handle: '@acme' };
    assert.deepEqual(scrubProperties(props), { plan: 'pro', ok: true, handle: '@acme' });
    assert.equal(scrubProperties(null), null);
  });
});

describe('redactRaw', () => {
  it('hashes user_data fields in dialect spelling and any email elsewhere, keeping the rest', () => {
    const raw = {
      event_type: 'purchase',
      user_data: { email: 'John_Smith@gmail.com', phone: '+1 (650) 555-1212', first_name: 'Mary', postal_code: '94035' },
      payload: { customer: 'john_smith@gmail.com', plan: 'pro' },
      events: [{ userData: { firstName: 'Mary', lastName: ' Smith' } }],
    };
    assert.deepEqual(redactRaw(raw), {
      event_type: 'purchase',
      user_data: { email: META.email, phone: META.phone, first_name: META.mary, postal_code: SHELL.zip94035 },
      payload: { customer: META.email, plan: 'pro' },
      events: [{ userData: { firstName: META.mary, lastName: SHELL.smith } }],
    });
  });

  it('does not hash fields named like PII outside user data', () => {
    assert.deepEqual(redactRaw({ city: 'Paris', properties: { phone: 'no' } }), { city: 'Paris', properties: { phone: 'no' } });
  });
});

describe('redactText', () => {
  it('hashes email-shaped text in a body that is not JSON', () => {
    assert.equal(redactText('{email: John_Smith@gmail.com, broken'), `{email: ${META.email}, broken`);
  });

  it('hashes emails and phone numbers inside text, URL-encoded ones too, as user_data would', () => {
    assert.equal(redactText('call +1 (650) 555-1212 or write to John_Smith@gmail.com.'), `call ${META.phone} or write to ${META.email}.`);
    assert.equal(redactText('https://shop.example/?e=John_Smith%40gmail.com&p=%2B1%20(650)%20555-1212&x=1'), `https://shop.example/?e=${META.email}&p=${META.phone}&x=1`);
    assert.equal(redactText('(650) 555-1212 / 650-555-1212'), `${hashPii('phone', '(650) 555-1212')} / ${hashPii('phone', '650-555-1212')}`);
  });

  it('leaves order ids, timestamps, dates and versions alone', () => {
    const text = 'order 12345678 at 1768478400000 on 2026-01-15T12:00:00Z, v1.2.3, 3.14159';
    assert.equal(redactText(text), text);
  });

  it('takes linear time on a megabyte built to make a regular expression backtrack', () => {
    for (const text of ['x'.repeat(1_000_000), `a@${'x.'.repeat(500_000)}`, `a@${'.'.repeat(1_000_000)} x`, '+1 '.repeat(330_000), 'a%40'.repeat(250_000)]) {
      const started = performance.now();
      redactText(text);
      redactRaw({ note: text });
      assert.ok(performance.now() - started < 2000, `${text.slice(0, 12)}…: ${(performance.now() - started).toFixed(0)} ms`);
    }
  });
});

describe('scrubProperties and redactRaw, beyond whole-value emails', () => {
  it('hashes emails and phones inside text and nested JSON, and values of phone-named properties', () => {
    assert.deepEqual(scrubProperties({ note: 'reach me at John_Smith@gmail.com', items: '[{"tel":"+1 (650) 555-1212"}]', billingPhone: '6505551212', iphone: 'iPhone 15', order: '6505551212' }), {
      note: `reach me at ${META.email}`, items: `[{"tel":"${META.phone}"}]`, billingPhone: hashPii('phone', '6505551212'), iphone: 'iPhone 15', order: '6505551212',
    });
  });

  it('hashes user_data values of the wrong type too, in what the quarantine keeps', () => {
    assert.deepEqual(redactRaw({ user_data: { phone: 16505551212 }, properties: { mobile: 16505551212 } }), { user_data: { phone: META.phone }, properties: { mobile: META.phone } });
  });
});

describe('scrubContext', () => {
  it('hashes emails and phones in a page address, a referrer and a user agent', () => {
    assert.deepEqual(scrubContext({ url: 'https://x.example/?email=John_Smith%40gmail.com', referrer: 'https://x.example/', userAgent: 'Agent (John_Smith@gmail.com)', ip: '203.0.113.0' }), {
      url: `https://x.example/?email=${META.email}`, referrer: 'https://x.example/', userAgent: `Agent (${META.email})`, ip: '203.0.113.0',
    });
  });
});

describe('pseudonymiseId', () => {
  it('stores an email used as an id as user_data.email\'s hash, whatever its case', () => {
    assert.equal(pseudonymiseId('John_Smith@gmail.com'), META.email);
    assert.equal(pseudonymiseId(' JOHN_SMITH@GMAIL.COM'), ` ${META.email}`);
  });

  it('stores a phone number written as one as user_data.phone\'s hash', () => {
    assert.equal(pseudonymiseId('+1 (650) 555-1212'), META.phone);
    assert.equal(pseudonymiseId('(650) 555-1212'), hashPii('phone', '6505551212'));
  });

  it('keeps the shape of a key that holds an email, hashing only the address', () => {
    assert.equal(pseudonymiseId('order-17:john_smith@gmail.com'), `order-17:${META.email}`);
  });

  it('keeps plain ids as sent: CRM numbers, UUIDs, dates, keys with dashes', () => {
    for (const id of ['23823940', '16505551212', '550e8400-e29b-41d4-a716-446655440000', '2026-11-26T05:00:00Z', 'crm-123-4567', 'sess_1732600000000', 'a+b', '100%'])
      assert.equal(pseudonymiseId(id), id);
  });

  it('is idempotent, so looking up a stored id (or the raw one) finds the same row', () => {
    for (const id of ['jane@example.com', '+44 20 7946 0958', 'x-jane@example.com-1']) {
      const once = pseudonymiseId(id);
      assert.notEqual(once, id);
      assert.equal(pseudonymiseId(once), once);
    }
  });
});
