import Foundation
import Testing

@testable import Encryption

/// Envelopes interoperate with an independent implementation: Python's `cryptography` package (OpenSSL-backed
/// AES-GCM, but its own envelope and AAD code, written from DESIGN §3.2) opens what Swift seals and seals what
/// Swift opens.
@Suite(.timeLimit(.minutes(1))) struct InteropPythonTests {
    /// Reads a JSON request on stdin: `key` (hex), `open` (envelopes to decrypt) and `seal` (envelopes to build).
    static let script = #"""
        import json, sys
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        request = json.loads(sys.stdin.read())
        aead = AESGCM(bytes.fromhex(request["key"]))

        def additional_data(envelope, item):
            if item["purpose"] == "storage":
                return envelope[0:6] + bytes.fromhex(item["user_key"]) + int(item["commit_ts"]).to_bytes(8, "big")
            return b"R" + envelope[0:1] + envelope[2:6]

        opened = []
        for item in request["open"]:
            envelope = bytes.fromhex(item["envelope"])
            if envelope[0] != 1 or len(envelope) < 34:
                raise SystemExit("bad envelope")
            plaintext = aead.decrypt(envelope[6:18], envelope[18:], additional_data(envelope, item))
            opened.append({"plaintext": plaintext.hex(), "flags": envelope[1],
                           "key_id": int.from_bytes(envelope[2:6], "big"), "nonce": envelope[6:18].hex()})

        sealed = []
        for item in request["seal"]:
            header = bytes([1, item["flags"]]) + int(item["key_id"]).to_bytes(4, "big") + bytes.fromhex(item["nonce"])
            body = aead.encrypt(header[6:18], bytes.fromhex(item["plaintext"]), additional_data(header, item))
            sealed.append((header + body).hex())

        print(json.dumps({"opened": opened, "sealed": sealed}))
        """#

    struct Item: Codable {
        var purpose: String
        var envelope: String = ""
        var user_key: String = ""
        var commit_ts: UInt64 = 0
        var flags: UInt8 = 0
        var key_id: KeyID = 0
        var nonce: String = ""
        var plaintext: String = ""
    }

    struct Request: Codable {
        var key: String
        var open: [Item]
        var seal: [Item]
    }

    struct Opened: Codable, Equatable {
        var plaintext: String
        var flags: UInt8
        var key_id: KeyID
        var nonce: String
    }

    struct Response: Codable {
        var opened: [Opened]
        var sealed: [String]
    }

    /// Runs the script with `request` on stdin, killing it after `timeoutSeconds`.
    static func runPython(_ request: Request, timeoutSeconds: Double = 30) throws -> Response {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try CipherFixtures.environmentLock.withLock { _ in try process.run() }
        input.fileHandleForWriting.write(try JSONEncoder().encode(request))
        try input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if process.isRunning {
            process.terminate()
            throw InteropFailure(message: "python3 did not finish within \(timeoutSeconds) s")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        guard process.terminationStatus == 0 else {
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw InteropFailure(message: "python3 exited with \(process.terminationStatus): \(stderr)")
        }
        return try JSONDecoder().decode(Response.self, from: data)
    }

    struct InteropFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    static let keyBytes = CipherFixtures.keyBytes(seed: 1)
    static let userKey = Array("user:π".utf8)

    @Test func pythonOpensEnvelopesSwiftSealed() throws {
        let keyring = CipherFixtures.keyring()
        let value = Array("hello interop".utf8)
        let storage = try keyring.seal(
            value, authenticating: .storage(userKey: Self.userKey, commitTimestamp: 1 << 40), isCompressed: true)
        let raft = try keyring.seal(value + [0], authenticating: .raft)
        let response = try Self.runPython(
            Request(
                key: CipherFixtures.hex(Self.keyBytes),
                open: [
                    Item(
                        purpose: "storage", envelope: CipherFixtures.hex(storage),
                        user_key: CipherFixtures.hex(Self.userKey), commit_ts: 1 << 40)
                ], seal: []))
        #expect(
            response.opened == [
                Opened(
                    plaintext: CipherFixtures.hex(value), flags: 1, key_id: CipherFixtures.storageKeyID,
                    nonce: CipherFixtures.hex(Nonce(node16: CipherFixtures.node16, localEpoch: 7, counter: 0).bytes))
            ])
        let raftResponse = try Self.runPython(
            Request(
                key: CipherFixtures.hex(CipherFixtures.keyBytes(seed: 2)),
                open: [Item(purpose: "raft", envelope: CipherFixtures.hex(raft))], seal: []))
        #expect(raftResponse.opened.map(\.plaintext) == [CipherFixtures.hex(value + [0])])
        #expect(raftResponse.opened.map(\.key_id) == [CipherFixtures.raftKeyID])
    }

    @Test func swiftOpensEnvelopesPythonSealed() throws {
        let keyring = CipherFixtures.keyring()
        let value = Array("sealed in python".utf8)
        let nonce = CipherFixtures.hex(Nonce(node16: 0x0A0B, localEpoch: 3, counter: 99).bytes)
        let response = try Self.runPython(
            Request(
                key: CipherFixtures.hex(Self.keyBytes), open: [],
                seal: [
                    Item(
                        purpose: "storage", user_key: CipherFixtures.hex(Self.userKey), commit_ts: 12_345,
                        flags: 0, key_id: CipherFixtures.storageKeyID, nonce: nonce,
                        plaintext: CipherFixtures.hex(value)),
                    Item(
                        purpose: "storage", user_key: CipherFixtures.hex(Self.userKey), commit_ts: 12_345,
                        flags: 1, key_id: CipherFixtures.storageKeyID, nonce: nonce, plaintext: ""),
                ]))
        #expect(response.sealed.count == 2)
        let context = EnvelopeContext.storage(userKey: Self.userKey, commitTimestamp: 12_345)
        let first = CipherFixtures.bytes(hex: response.sealed[0])
        #expect(try keyring.open(first, authenticating: context) == value)
        let second = CipherFixtures.bytes(hex: response.sealed[1])
        #expect(try keyring.open(second, authenticating: context) == [])
        #expect(try SealedEnvelope(combined: second, purpose: .storage).isCompressed)
        #expect(throws: EnvelopeError.integrityFailure(keyID: CipherFixtures.storageKeyID)) {
            _ = try keyring.open(first, authenticating: .storage(userKey: Self.userKey, commitTimestamp: 12_346))
        }
    }

    @Test func swiftOpensRaftEnvelopesPythonSealed() throws {
        let keyring = CipherFixtures.keyring()
        let payload: [UInt8] = [0x01, 0x02, 0x03]
        let response = try Self.runPython(
            Request(
                key: CipherFixtures.hex(CipherFixtures.keyBytes(seed: 2)), open: [],
                seal: [
                    Item(
                        purpose: "raft", flags: 0, key_id: CipherFixtures.raftKeyID,
                        nonce: CipherFixtures.hex(Nonce(node16: 1, localEpoch: 2, counter: 3).bytes),
                        plaintext: CipherFixtures.hex(payload))
                ]))
        #expect(try keyring.open(CipherFixtures.bytes(hex: response.sealed[0]), authenticating: .raft) == payload)
    }
}
