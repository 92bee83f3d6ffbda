import COpenSSL
import CQuantumLinux

/// The password hashes Caddy's basic auth knows: bcrypt (through the system's libcrypt) and
/// scrypt (through OpenSSL). Checking one costs what the hash is made to cost (bcrypt at cost
/// 14: about a second of CPU), so callers run it off the event loops.
package enum PasswordHash: Sendable, Equatable {
    case bcrypt
    /// Caddy's defaults: N 32768, r 8, p 1, 32-byte keys.
    case scrypt(n: Int, r: Int, p: Int, keyLength: Int)

    package static let defaultScrypt = PasswordHash.scrypt(n: 32768, r: 8, p: 1, keyLength: 32)

    /// Whether `plaintext` is the password `hash` was made from (`salt`: scrypt's). The final
    /// comparison takes the same time wherever the bytes differ.
    package func matches(_ plaintext: String, hash: [UInt8], salt: [UInt8] = []) -> Bool {
        switch self {
        case .bcrypt:
            guard let computed = Self.crypt(plaintext, setting: String(decoding: hash, as: UTF8.self)) else { return false }
            return ConstantTime.equal(Array(computed.utf8), hash)
        case .scrypt:
            guard let computed = scrypt(plaintext, salt: salt) else { return false }
            return ConstantTime.equal(computed, hash)
        }
    }

    /// A new bcrypt hash of `plaintext` (`$2a$COST$...`, as `caddy hash-password` prints it).
    package static func bcrypt(_ plaintext: String, cost: Int = 14) -> String? {
        var setting = [CChar](repeating: 0, count: 64)
        guard cq_bcrypt_salt(UInt(cost), &setting, UInt(setting.count)) == 0 else { return nil }
        return crypt(plaintext, setting: String(decoding: setting.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// The scrypt key of `plaintext` with `salt` (nil for bcrypt, or when OpenSSL refuses the parameters).
    package func scrypt(_ plaintext: String, salt: [UInt8]) -> [UInt8]? {
        guard case .scrypt(let n, let r, let p, let keyLength) = self, keyLength > 0, keyLength <= 1024 else { return nil }
        var key = [UInt8](repeating: 0, count: keyLength)
        let memory = UInt64(n) * UInt64(r) * 128 + (64 << 20)
        let ok = plaintext.utf8CString.withUnsafeBufferPointer { pass in
            salt.withUnsafeBufferPointer { s in
                EVP_PBE_scrypt(pass.baseAddress, pass.count - 1, s.baseAddress, s.count, UInt64(n), UInt64(r), UInt64(p), memory, &key, keyLength)
            }
        }
        return ok == 1 ? key : nil
    }

    private static func crypt(_ plaintext: String, setting: String) -> String? {
        var out = [CChar](repeating: 0, count: 256)
        guard cq_crypt(plaintext, setting, &out, UInt(out.count)) == 0 else { return nil }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
