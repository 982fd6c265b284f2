import DurableIO
import Encryption
import Testing

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

@Suite("Sidecar and error redaction")
struct SidecarRedactionTests {
    /// Wrapped bytes whose every rendering is distinctive.
    static let wrapped: [UInt8] = [0xC3, 0x5A, 0x17, 0xE9, 0x42, 0x8D, 0x0B, 0xF6, 0x99, 0x21, 0x7C, 0xD4]

    /// Every way wrapped bytes could leak into text.
    static var renderings: [String] {
        let hex = sidecarHex(wrapped)
        return [
            hex, hex.uppercased(), Data(wrapped).base64EncodedString(), String(decoding: wrapped, as: UTF8.self),
            wrapped.map(String.init).joined(separator: ", "), "\(wrapped)",
        ]
    }

    /// One value of every error and state type, all built around the distinctive wrapped bytes.
    static var texts: [String] {
        let key = Sidecar.Key(
            purpose: .storage, wrapped: WrappedDEK(wrapped), created: "2026-04-29T10:00:00Z", localEpoch: 1)
        let sidecar = Sidecar(raftAppliedIndex: 3, activeKeyIDs: [.storage: 5], keys: [5: key])
        let path = "/data/n1/encryption/keys.json"
        let fileError = FileSystemError(.noSpace, operation: "write", path: path)
        let entry = EncryptionEntry.rotateDEK(
            .init(
                createdUnixSeconds: 1, replacedKeyID: 4,
                key: .init(keyID: 5, purpose: .storage, wrapped: WrappedDEK(wrapped)),
                registrations: [WriterRegistration(dekID: 5, fullNodeID: 9, localEpoch: 0)]))
        var parseErrors: [String] = []
        let json = String(decoding: sidecar.encodedJSON(), as: UTF8.self)
        for broken in [
            json.replacing("\"local_epoch\" : 1", with: "\"local_epoch\" : \"\(sidecarHex(wrapped))\""),
            json.replacing("\"5\"", with: "\"\(Data(wrapped).base64EncodedString())\""),
            json.replacing("\"storage\"", with: "\"\(sidecarHex(wrapped))\""),
            json.replacing("\"wrapped\" : \"", with: "\"wrapped\" : \"!"),
        ] {
            do { _ = try Sidecar(json: Array(broken.utf8), path: path) } catch { parseErrors.append(error.description) }
        }
        #expect(parseErrors.count == 4)
        let haltReasons: [ApplyHalt.Reason] = [
            .malformedEntry(.wrappedDEKLength(12)), .registrationForOtherKey(5), .registrationEpochNotZero(5, 1),
            .conflictingBootstrap, .notBootstrapped, .keyIDReused(5), .unknownKey(5), .retiringActiveKey(5),
            .noActiveKey(.raft), .kekMismatch(5), .rewrapChangesKey(5), .keystoreRejected(.conflictingKey(5)),
            .cutoverDivergence(recorded: 2), .storageEnvelopeDivergence,
            .sidecarWriteFailed(SidecarError(.writeFailed(fileError), path: path)),
            .registryStoreFailed(WriterRegistryStoreError(operation: "read", reason: "closed")),
        ]
        let startupErrors: [StartupError] = [
            .kekRequired, .kekMismatch(keyID: 5, sidecarPath: path), .sidecarPresentWithoutFlag(sidecarPath: path),
            .localEpochExhausted(keyID: 5, purpose: .raft, sidecarPath: path),
            .unsupportedFilesystem(directory: path, failure: fileError),
            .sidecarUnusable(SidecarError(.invalidWrappedEncoding(5), path: path)),
            .registryUnreadable(WriterRegistryStoreError(operation: "read", reason: "closed")),
        ]
        return parseErrors + haltReasons.map { ApplyHalt(index: 7, reason: $0).description }
            + startupErrors.map(\.description)
            + [
                String(describing: sidecar), String(reflecting: sidecar), String(describing: key),
                String(reflecting: key),
                String(describing: entry), String(reflecting: entry), "\(WrappedDEK(wrapped))",
                String(describing: ApplyOutcome.applied),
            ]
    }

    @Test("no error, state or entry description contains wrapped bytes in any rendering")
    func noWrappedBytes() {
        let texts = Self.texts
        #expect(texts.count > 30)
        for text in texts {
            for rendering in Self.renderings {
                #expect(!text.contains(rendering), "\(text) shows wrapped bytes")
            }
        }
    }

    @Test("the sidecar itself does contain them, so the check above can fail")
    func renderingsAreFindable() {
        let key = Sidecar.Key(purpose: .storage, wrapped: WrappedDEK(Self.wrapped), created: "x", localEpoch: 1)
        let json = String(
            decoding: Sidecar(raftAppliedIndex: 1, activeKeyIDs: [:], keys: [5: key]).encodedJSON(), as: UTF8.self)
        #expect(json.contains(Self.renderings[2]))
    }
}
