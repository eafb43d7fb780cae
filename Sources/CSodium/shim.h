// libsodium headers that permid uses (Ed25519 point and scalar arithmetic for blinding, SHA-512, the
// Ed25519 to X25519 key conversion for sealed boxes).
// No logic lives here.
#include <sodium/core.h>
#include <sodium/crypto_core_ed25519.h>
#include <sodium/crypto_hash_sha512.h>
#include <sodium/crypto_scalarmult_ed25519.h>
#include <sodium/crypto_sign_ed25519.h>
#include <sodium/utils.h>
