import CQuantumLinux

/// A fast pseudo-random generator, per thread, for choices made on every request (load
/// balancing): `SystemRandomNumberGenerator` costs a `getrandom` system call per number on
/// Linux. Not for secrets, keys or anything an attacker must not predict.
package struct FastRandom: RandomNumberGenerator {
    public init() {}

    @inline(__always)
    public mutating func next() -> UInt64 { UInt64(cq_fast_random()) }
}
