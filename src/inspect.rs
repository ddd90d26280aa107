//! What anyone holding a token can read from it: JWT header and claims without a key,
//! signature verification with a JWK, and what an opaque token reveals (nothing).
