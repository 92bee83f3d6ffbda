/// Holds a streamed response body to the length its producer declared: a body that runs over
/// or stops short is a handler bug, reported as a 500 instead of a corrupt message.
final class DeclaredLength: @unchecked Sendable {
    let declared: Int?
    private var written = 0

    init(_ declared: Int?) { self.declared = declared }

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
