/// What a streamed response body's writer keeps between writes: the bytes counted against the
/// length its producer declared (running over or stopping short is a handler bug, reported as
/// a 500 instead of a corrupt message), and the trailers to send once it ends.
/// `@unchecked Sendable`: only its body's one producer uses it, one call at a time.
final class BodyWriterState: @unchecked Sendable {
    let declared: Int?
    private(set) var written = 0
    /// Set by the producer (`setTrailers`), sent after the last byte.
    var trailers: [HTTPFields.Field] = []

    init(declaredLength: Int?) { declared = declaredLength }

    /// Counts `count` more bytes; throws when they go past the declared length.
    func add(_ count: Int) throws {
        written += count
        if let declared, written > declared { throw HTTPError(500, "body longer than its Content-Length") }
    }

    /// The body ended: throws when it is shorter than declared.
    func finish() throws {
        if let declared, written != declared { throw HTTPError(500, "body shorter than its Content-Length") }
    }
}
