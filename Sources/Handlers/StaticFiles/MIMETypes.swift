/// Content types by file extension (lowercase, without the dot). Text types carry a charset.
/// Unknown extensions get no Content-Type at all: like Caddy, Quantum never sniffs.
public enum MIMETypes {
    public static func type(forPath path: String) -> String? {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return nil }
        return table[path[path.index(after: dot)...].asciiLowercased()]
    }

    static let table: [String: String] = [
        "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8", "shtml": "text/html; charset=utf-8",
        "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8", "mjs": "text/javascript; charset=utf-8",
        "json": "application/json", "map": "application/json", "jsonld": "application/ld+json",
        "webmanifest": "application/manifest+json",
        "txt": "text/plain; charset=utf-8", "text": "text/plain; charset=utf-8", "log": "text/plain; charset=utf-8",
        "md": "text/markdown; charset=utf-8", "markdown": "text/markdown; charset=utf-8",
        "csv": "text/csv; charset=utf-8", "tsv": "text/tab-separated-values; charset=utf-8",
        "xml": "text/xml; charset=utf-8", "xsl": "text/xml; charset=utf-8", "rss": "application/rss+xml",
        "atom": "application/atom+xml", "ics": "text/calendar; charset=utf-8", "vtt": "text/vtt; charset=utf-8",
        "yaml": "application/yaml", "yml": "application/yaml", "toml": "application/toml",
        "wasm": "application/wasm", "pdf": "application/pdf", "zip": "application/zip", "gz": "application/gzip",
        "tgz": "application/gzip", "tar": "application/x-tar", "bz2": "application/x-bzip2", "xz": "application/x-xz",
        "zst": "application/zstd", "br": "application/x-brotli", "7z": "application/x-7z-compressed",
        "rar": "application/vnd.rar", "jar": "application/java-archive", "bin": "application/octet-stream",
        "exe": "application/octet-stream", "dmg": "application/octet-stream", "iso": "application/octet-stream",
        "deb": "application/vnd.debian.binary-package", "rpm": "application/x-rpm",
        "doc": "application/msword", "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls": "application/vnd.ms-excel", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt": "application/vnd.ms-powerpoint", "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt": "application/vnd.oasis.opendocument.text", "ods": "application/vnd.oasis.opendocument.spreadsheet",
        "rtf": "application/rtf", "epub": "application/epub+zip",
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
        "avif": "image/avif", "svg": "image/svg+xml", "svgz": "image/svg+xml", "ico": "image/vnd.microsoft.icon",
        "bmp": "image/bmp", "tif": "image/tiff", "tiff": "image/tiff", "heic": "image/heic", "jxl": "image/jxl",
        "mp3": "audio/mpeg", "ogg": "audio/ogg", "oga": "audio/ogg", "opus": "audio/ogg", "wav": "audio/wav",
        "flac": "audio/flac", "aac": "audio/aac", "m4a": "audio/mp4", "weba": "audio/webm", "mid": "audio/midi",
        "midi": "audio/midi",
        "mp4": "video/mp4", "m4v": "video/mp4", "webm": "video/webm", "ogv": "video/ogg", "mov": "video/quicktime",
        "avi": "video/x-msvideo", "mkv": "video/x-matroska", "mpeg": "video/mpeg", "mpg": "video/mpeg",
        "ts": "video/mp2t", "m3u8": "application/vnd.apple.mpegurl", "mpd": "application/dash+xml",
        "woff": "font/woff", "woff2": "font/woff2", "ttf": "font/ttf", "otf": "font/otf", "eot": "application/vnd.ms-fontobject",
        "sh": "application/x-sh", "py": "text/x-python; charset=utf-8", "c": "text/x-c; charset=utf-8",
        "h": "text/x-c; charset=utf-8", "swift": "text/x-swift; charset=utf-8", "go": "text/x-go; charset=utf-8",
        "rs": "text/x-rust; charset=utf-8", "java": "text/x-java; charset=utf-8",
    ]
}
