export { Authenticator } from './authenticator.js';
export { hashSecret, kindOfKey, looksLikeApiKey, newApiKey, newSecret, sameDigest, type NewSecret } from './keys.js';
