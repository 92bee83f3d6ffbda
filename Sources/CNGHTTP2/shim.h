// nghttp2 (Debian libnghttp2-dev 1.52): HTTP/2 framing, HPACK and flow control for QuantumCore.
#include <nghttp2/nghttp2.h>
