// Brotli's encoder (Debian libbrotli-dev) for the `encode` handler's br encoding.
#include <brotli/encode.h>
