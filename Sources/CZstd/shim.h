// zstd (Debian libzstd-dev) for the `encode` handler's zstd encoding.
#include <zstd.h>
