import Foundation
import PermIDClient
import PermIDKit
import Testing

/// The handshake in one process: a listener on a loopback port 0 and a client, with real TLS.
@Suite struct HandshakeTests {
    /// Runs `accept()` on another thread; returns its result once the client side is done.
    private func serve(_ listener: PermIDListener, _ body: @escaping @Sendable (AuthenticatedStream) throws -> Void)
        -> @Sendable () -> Result<PermID, HandshakeError> {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<PermID, HandshakeError> = .failure(.network("not run"))
        Thread.detachNewThread {
            do throws(HandshakeError) {
                let stream = try listener.accept()
                try? body(stream)
                result = .success(stream.peer)
            } catch {
                result = .failure(error)
            }
            done.signal()
        }
        return { done.wait(); return result }
    }

    @Test(arguments: [KeyType.ed25519, .libnacl, .ec(.p256), .ec(.sect571k1)]) func bothSidesLearnThePeer(_ type: KeyType) throws {
        signal(SIGPIPE, SIG_IGN)
        let server = try PrivateKey.generate(type), client = try PrivateKey.generate(.ed25519)
        let listener = try PermIDListener(host: "127.0.0.1", port: 0, identity: server)
        let wait = serve(listener) { stream in
            try stream.write(Array("hello".utf8))
            stream.close()
        }
        let stream = try PermIDTLS.connect(host: "127.0.0.1", port: listener.port, identity: client,
                                           policy: PeerPolicy(expected: server.permID))
        #expect(stream.peer == server.permID)
        #expect(try stream.read() == Array("hello".utf8))
        #expect(try stream.read() == [])
        stream.close()
        #expect(try wait().get() == client.permID)
    }

    @Test func anotherPermIDIsRefusedBeforeAnyByte() throws {
        let server = try PrivateKey.generate(.ed25519), client = try PrivateKey.generate(.ed25519)
        let expected = try PrivateKey.generate(.ed25519).permID
        let listener = try PermIDListener(host: "127.0.0.1", port: 0, identity: server)
        let wait = serve(listener) { _ in }
        #expect {
            _ = try PermIDTLS.connect(host: "127.0.0.1", port: listener.port, identity: client, policy: PeerPolicy(expected: expected))
        } throws: { error in
            guard case HandshakeError.peerRejected(let reason) = error else { return false }
            return reason.contains("not the expected")
        }
        guard case .failure = wait() else { Issue.record("the server finished a refused handshake"); return }
    }

    @Test func theServerPolicyRefusesDuringTheHandshake() throws {
        let server = try PrivateKey.generate(.ed25519), client = try PrivateKey.generate(.ec(.p256))
        let listener = try PermIDListener(host: "127.0.0.1", port: 0, identity: server,
                                          policy: PeerPolicy(admit: { _ in "not a friend" }))
        let wait = serve(listener) { _ in }
        let stream = try PermIDTLS.connect(host: "127.0.0.1", port: listener.port, identity: client)
        #expect(throws: HandshakeError.self) { _ = try stream.read() }
        #expect(wait() == .failure(.peerRejected("not a friend")))
    }

    @Test(arguments: [HandshakeCertificate.KeyKind.ed25519, .p256]) func certificateCarriesTheProof(_ kind: HandshakeCertificate.KeyKind) throws {
        let identity = try PrivateKey.generate(.ec(.p384))
        let certificate = try HandshakeCertificate(proving: identity, kind: kind)
        #expect(certificate.proof.permID == identity.permID.bytes)
        let der = certificate.der
        let proofDER = certificate.proof.der
        #expect(der.count > proofDER.count)
        #expect(der.indices.contains { der[$0...].starts(with: proofDER) })
    }
}
