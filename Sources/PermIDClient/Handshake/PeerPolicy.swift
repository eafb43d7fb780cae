import PermIDKit

/// Which authenticated peers a handshake accepts, beyond a valid proof (FRIENDS-v1 part C).
public struct PeerPolicy: Sendable {
    /// The PermID the peer must prove (from the directory or a friends list); `nil` for any.
    public var expected: PermID?
    /// Decides on a peer whose proof verified: `nil` admits it, a reason refuses it. This is the hook
    /// for a friends list (`--friends-only`).
    public var admit: @Sendable (PermID) -> String?

    /// A policy; by default any peer with a valid proof is accepted.
    public init(expected: PermID? = nil, admit: @escaping @Sendable (PermID) -> String? = { _ in nil }) {
        self.expected = expected
        self.admit = admit
    }
}
