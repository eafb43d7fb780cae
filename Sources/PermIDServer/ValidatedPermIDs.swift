import PermIDKit
import Synchronization

/// PermIDs (binary form) already found valid, so a key check — on a binary curve, an n·Q
/// multiplication — is paid once per PermID, not once per request that names it. Bounded: when
/// full, it is emptied and refills from what is asked for.
final class ValidatedPermIDs: Sendable {
    private let known = Mutex(Set<[UInt8]>())
    private let capacity: Int

    init(capacity: Int = 65_536) { self.capacity = capacity }

    /// Whether `permID` was found valid before.
    func contains(_ permID: [UInt8]) -> Bool { known.withLock { $0.contains(permID) } }

    /// Validates `permID` (at once if it was found valid before) and remembers it.
    ///
    /// - Throws: the ``DirectoryError`` of ``PublicKey/init(bytes:)``.
    func check(_ permID: [UInt8]) throws(DirectoryError) {
        guard !contains(permID) else { return }
        _ = try PublicKey(bytes: permID)
        known.withLock { known in
            if known.count >= capacity { known.removeAll(keepingCapacity: true) }
            known.insert(permID)
        }
    }
}
