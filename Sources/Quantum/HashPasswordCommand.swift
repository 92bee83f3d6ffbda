import Glibc
import QuantumCore

/// `quantum hash-password`: a password hash for `http_basic` accounts, printed as
/// `caddy hash-password` (2.6.2) prints it — bcrypt (cost 14) in its `$2a$` form, scrypt as the
/// base64 of the key, with `--salt` taken as it is typed (the config's `salt` is its base64).
struct HashPasswordCommand {
    let out: @Sendable (String) -> Void

    func run(_ opts: [String: String]) throws -> Int32 {
        let plaintext: String
        if let given = opts["--plaintext"] {
            plaintext = given
        } else {
            guard let line = readLine(strippingNewline: true) else {
                throw QuantumCommand.UsageError(message: "hash-password needs --plaintext or the password on standard input")
            }
            plaintext = line
        }
        guard !plaintext.isEmpty else { throw QuantumCommand.UsageError(message: "the password is empty") }
        switch opts["--algorithm"] ?? "bcrypt" {
        case "bcrypt":
            guard opts["--salt"] == nil else { throw QuantumCommand.UsageError(message: "bcrypt makes its own salt; --salt is for scrypt") }
            guard let hash = PasswordHash.bcrypt(plaintext) else { throw QuantumCommand.FileError(description: "libcrypt could not make a bcrypt hash") }
            out(hash)
        case "scrypt":
            guard let key = PasswordHash.defaultScrypt.scrypt(plaintext, salt: Array((opts["--salt"] ?? "").utf8)) else {
                throw QuantumCommand.FileError(description: "OpenSSL could not make an scrypt key")
            }
            out(Base64.encode(key))
        case let other:
            throw QuantumCommand.UsageError(message: "unknown --algorithm \"\(other)\" (bcrypt or scrypt)")
        }
        return 0
    }
}
