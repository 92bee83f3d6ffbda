import CQuantumLinux
import Glibc

/// A failed system call, with errno and what was being done.
package struct SystemError: Error, CustomStringConvertible {
    public let operation: String
    public let code: Int32
    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }
    public var description: String { "\(operation): \(String(cString: strerror(code)))" }
    static func last(_ operation: String) -> SystemError { SystemError(operation: operation, code: cq_errno()) }
}
