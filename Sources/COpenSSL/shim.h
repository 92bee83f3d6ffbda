#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/tls1.h>

// Swift cannot call OpenSSL's function-like macros, nor see constants built from them:
// trivial inline wrappers, nothing more.

static inline uint64_t quantum_ssl_server_options(void) {
    return SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA | SSL_OP_NO_RENEGOTIATION
        | SSL_OP_NO_COMPRESSION | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
}

static inline long quantum_ssl_ctx_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
static inline long quantum_ssl_release_buffers_mode(void) { return SSL_MODE_RELEASE_BUFFERS; }
static inline int quantum_ssl_ctx_set_min_proto(SSL_CTX *ctx, int v) { return (int)SSL_CTX_set_min_proto_version(ctx, v); }
static inline int quantum_ssl_ctx_set_max_proto(SSL_CTX *ctx, int v) { return (int)SSL_CTX_set_max_proto_version(ctx, v); }
static inline int quantum_ssl_set_min_proto(SSL *s, int v) { return (int)SSL_set_min_proto_version(s, v); }
static inline int quantum_ssl_set_max_proto(SSL *s, int v) { return (int)SSL_set_max_proto_version(s, v); }
static inline int quantum_ssl_ctx_set_groups(SSL_CTX *ctx, const char *list) { return (int)SSL_CTX_set1_groups_list(ctx, list); }
static inline int quantum_ssl_set_groups(SSL *s, const char *list) { return (int)SSL_set1_groups_list(s, list); }
static inline long quantum_ssl_ctx_set_session_cache_mode(SSL_CTX *ctx, long m) { return SSL_CTX_set_session_cache_mode(ctx, m); }

static inline long quantum_ssl_set_sni(SSL *s, const char *name) { return SSL_set_tlsext_host_name(s, name); }
static inline uint64_t quantum_ssl_client_options(void) {
    return SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
}

static inline long quantum_bio_mem_data(BIO *b, char **data) { return BIO_get_mem_data(b, data); }
static inline int quantum_bio_reset(BIO *b) { return BIO_reset(b); }

/// A certificate chain (STACK_OF(X509)) built and freed from Swift.
static inline STACK_OF(X509) *quantum_x509_chain_new(void) { return sk_X509_new_null(); }
static inline int quantum_x509_chain_push(STACK_OF(X509) *chain, X509 *cert) { return sk_X509_push(chain, cert); }
static inline void quantum_x509_chain_free(STACK_OF(X509) *chain) { sk_X509_pop_free(chain, X509_free); }

/// The subjectAltName entries of a certificate, walked from Swift.
static inline GENERAL_NAMES *quantum_x509_san(X509 *cert) {
    return (GENERAL_NAMES *)X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
}
static inline int quantum_san_count(GENERAL_NAMES *names) { return sk_GENERAL_NAME_num(names); }
static inline GENERAL_NAME *quantum_san_at(GENERAL_NAMES *names, int i) { return sk_GENERAL_NAME_value(names, i); }
static inline void quantum_san_free(GENERAL_NAMES *names) { GENERAL_NAMES_free(names); }

/// CA names sent in a CertificateRequest (STACK_OF(X509_NAME)).
static inline STACK_OF(X509_NAME) *quantum_x509_name_list_new(void) { return sk_X509_NAME_new_null(); }
static inline int quantum_x509_name_list_push(STACK_OF(X509_NAME) *list, X509_NAME *name) { return sk_X509_NAME_push(list, name); }
static inline unsigned long quantum_xn_flag_rfc2253(void) { return XN_FLAG_RFC2253; }
static inline uint64_t quantum_ssl_no_ticket_option(void) { return SSL_OP_NO_TICKET; }

/// A fresh ECDSA P-256 key (EVP_EC_gen is a variadic macro Swift cannot call).
static inline EVP_PKEY *quantum_ec_p256_key(void) { return EVP_EC_gen("P-256"); }
