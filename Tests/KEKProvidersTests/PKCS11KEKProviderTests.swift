import CPKCS11
import Dispatch
import Encryption
import Foundation
import Synchronization
import Testing

@testable import KEKProviders

/// SoftHSM2 set up once for this test process: one token directory, one token per test, one AES key in each.
///
/// A PKCS #11 module reads its configuration when it is initialised, once per process, so every token the
/// tests use is made (with `softhsm2-util`) and given its wrapping key (through the loaded module, with
/// C_GenerateKey) before any test runs. The fixture keeps its own hold on the module for the whole process,
/// so providers that come and go never finalise it. A machine without SoftHSM2 fails every test here with an
/// error naming the Debian package.
final class SoftHSMFixture: Sendable {
    /// Where Debian installs SoftHSM2's module.
    static let modulePaths = [
        "/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    ]
    static let utilityPath = "/usr/bin/softhsm2-util"
    /// One token per test that needs one.
    static let tokenLabels = [
        "roundtrip", "two-wraps", "altered", "second-a", "second-b", "wrong-pin", "no-object", "pin-mode",
        "reopen", "concurrent", "by-id", "close",
    ]
    /// The CKA_LABEL of the wrapping key in every token.
    static let keyLabel = "kek"

    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    /// A token made for one test.
    struct Token: Sendable {
        let label: String
        let pin: String
        let slot: CK_SLOT_ID
        /// The CKA_ID of its wrapping key.
        let keyID: [UInt8]
    }

    static let shared = Result<SoftHSMFixture, any Error> { try SoftHSMFixture() }
    private static let directoryToRemove = Mutex<String?>(nil)

    let directory: String
    let modulePath: String
    let module: PKCS11Module
    let tokens: [String: Token]

    private init() throws {
        guard let modulePath = Self.modulePaths.first(where: { FileManager.default.fileExists(atPath: $0) }),
            FileManager.default.isExecutableFile(atPath: Self.utilityPath)
        else {
            throw SetupError(
                description: "SoftHSM2 is not installed (no module at \(Self.modulePaths) or no "
                    + "\(Self.utilityPath)): install the Debian package softhsm2")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "elastickv-softhsm-\(getpid())-"
                + UUID().uuidString
        ).path
        try FileManager.default.createDirectory(atPath: directory + "/tokens", withIntermediateDirectories: true)
        Self.directoryToRemove.withLock { $0 = directory }
        atexit { SoftHSMFixture.removeDirectory() }
        let configuration =
            "directories.tokendir = \(directory)/tokens\nobjectstore.backend = file\nlog.level = ERROR\n"
        try configuration.write(toFile: directory + "/softhsm2.conf", atomically: true, encoding: .utf8)
        setenv("SOFTHSM2_CONF", directory + "/softhsm2.conf", 1)
        for label in Self.tokenLabels {
            try Self.run(
                Self.utilityPath,
                [
                    "--init-token", "--free", "--label", label, "--pin", Self.pin(label),
                    "--so-pin", "so-\(Self.pin(label))",
                ])
        }
        let module = try PKCS11Module.acquire(path: modulePath)
        var tokens: [String: Token] = [:]
        for slot in try module.slotsWithToken() {
            let label = try module.tokenLabel(slot: slot)
            guard let index = Self.tokenLabels.firstIndex(of: label) else { continue }
            let token = Token(label: label, pin: Self.pin(label), slot: slot, keyID: [0xA1, UInt8(index)])
            try Self.generateWrappingKey(in: token, module: module)
            tokens[label] = token
        }
        guard tokens.count == Self.tokenLabels.count else {
            throw SetupError(description: "SoftHSM2 shows \(tokens.count) of the \(Self.tokenLabels.count) tokens made")
        }
        self.directory = directory
        self.modulePath = modulePath
        self.module = module
        self.tokens = tokens
    }

    /// The user PIN of a token: distinctive, so a test can check it appears in no error text.
    static func pin(_ label: String) -> String { "upin-\(label)-7Qx3" }

    func token(_ label: String) -> Token {
        guard let token = tokens[label] else { preconditionFailure("the fixture has no token \(label)") }
        return token
    }

    /// A pkcs11: URI for `token`, with a fresh PIN file holding `pin` (the token's own by default).
    func uri(for token: Token, path: String? = nil, pin: String? = nil, pinFileMode: Int = 0o600) throws -> KEKURI {
        let pinPath = directory + "/pin-\(token.label)-\(UUID().uuidString)"
        guard
            FileManager.default.createFile(
                atPath: pinPath, contents: Data(((pin ?? token.pin) + "\n").utf8),
                attributes: [.posixPermissions: pinFileMode])
        else { throw SetupError(description: "cannot write the PIN file \(pinPath)") }
        let body = path ?? "token=\(token.label);object=\(Self.keyLabel)"
        return try KEKURI("pkcs11:\(body)?module-path=\(modulePath)&pin-source=file:\(pinPath)")
    }

    private static func generateWrappingKey(in token: Token, module: PKCS11Module) throws {
        let session = try PKCS11Session(module: module, slot: token.slot)
        defer { session.close() }
        try session.login(pin: SecretBytes(copying: Array(token.pin.utf8)))
        let template = PKCS11Session.Template()
        template.append(CK_ATTRIBUTE_TYPE(CKA_CLASS), unsigned: CK_ULONG(CKO_SECRET_KEY))
        template.append(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), unsigned: CK_ULONG(CKK_AES))
        template.append(CK_ATTRIBUTE_TYPE(CKA_VALUE_LEN), unsigned: 32)
        template.append(CK_ATTRIBUTE_TYPE(CKA_TOKEN), bool: true)
        template.append(CK_ATTRIBUTE_TYPE(CKA_PRIVATE), bool: true)
        template.append(CK_ATTRIBUTE_TYPE(CKA_SENSITIVE), bool: true)
        template.append(CK_ATTRIBUTE_TYPE(CKA_EXTRACTABLE), bool: false)
        template.append(CK_ATTRIBUTE_TYPE(CKA_WRAP), bool: true)
        template.append(CK_ATTRIBUTE_TYPE(CKA_UNWRAP), bool: true)
        template.append(CK_ATTRIBUTE_TYPE(CKA_LABEL), bytes: Array(keyLabel.utf8))
        template.append(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: token.keyID)
        var mechanism = CK_MECHANISM(mechanism: CK_MECHANISM_TYPE(CKM_AES_KEY_GEN), pParameter: nil, ulParameterLen: 0)
        var key: CK_OBJECT_HANDLE = 0
        try module.call("C_GenerateKey") {
            $0.C_GenerateKey?(session.handle, &mechanism, template.attributes, template.count, &key)
        }
    }

    /// Runs a command to completion (at most 30 s) and throws unless it exits 0.
    private static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = ContinuousClock.now + .seconds(30)
        while process.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw SetupError(description: "\(executable) did not finish within 30 s")
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw SetupError(
                description: "\(executable) \(arguments.first ?? "") exited \(process.terminationStatus): \(text)")
        }
    }

    private static func removeDirectory() {
        guard let directory = directoryToRemove.withLock({ $0 }) else { return }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

@Suite("PKCS11KEKProvider against SoftHSM2")
struct PKCS11KEKProviderTests {
    private func makeProvider(_ label: String) throws -> (PKCS11KEKProvider, SoftHSMFixture.Token, SoftHSMFixture) {
        let fixture = try SoftHSMFixture.shared.get()
        let token = fixture.token(label)
        return (try PKCS11KEKProvider(uri: fixture.uri(for: token)), token, fixture)
    }

    /// Asserts that `body` throws a KEKProviderError and returns it.
    private func providerError(_ body: () throws -> Void) -> KEKProviderError? {
        do {
            try body()
            Issue.record("expected a KEKProviderError, got success")
        } catch let error as KEKProviderError {
            return error
        } catch {
            Issue.record("expected a KEKProviderError, got \(error)")
        }
        return nil
    }

    @Test func wrapThenUnwrapReturnsTheDEKAndUsesTheMechanismTheTokenOffers() throws {
        let (provider, token, fixture) = try makeProvider("roundtrip")
        defer { provider.close() }
        let dek = DataEncryptionKey.generate()
        let wrapped = try provider.wrap(dek)
        let unwrapped = try provider.unwrap(wrapped)
        #expect(unwrapped.hasSameBytes(as: dek))
        let offersKWP = try fixture.module.mechanisms(slot: token.slot).contains(0x210B)
        let expected: PKCS11KEKProvider.WrapFormat = offersKWP ? .keyWrapWithPadding : .keyWrap
        #expect(wrapped.first == expected.rawValue)
        #expect(wrapped.count == 1 + 40)
        print("SoftHSM2 wrapped with \(expected.mechanismName) (format byte 0x0\(expected.rawValue))")
        #expect(provider.sessionObjectsLeft == 0)
    }

    @Test func twoWrapsOfOneDEKBothUnwrapToIt() throws {
        let (provider, _, _) = try makeProvider("two-wraps")
        defer { provider.close() }
        let dek = DataEncryptionKey.generate()
        let first = try provider.wrap(dek)
        let second = try provider.wrap(dek)
        #expect(try provider.unwrap(first).hasSameBytes(as: dek))
        #expect(try provider.unwrap(second).hasSameBytes(as: dek))
        #expect(!(try provider.unwrap(first).hasSameBytes(as: DataEncryptionKey.generate())))
    }

    @Test func alteredWrappedBytesAreAMismatch() throws {
        let (provider, _, _) = try makeProvider("altered")
        defer { provider.close() }
        let wrapped = try provider.wrap(DataEncryptionKey.generate())
        var candidates: [[UInt8]] = [
            [], [wrapped[0]], [0x7F] + wrapped.dropFirst(), Array(wrapped.dropLast(8)),
            wrapped + [0, 0, 0, 0, 0, 0, 0, 0],
        ]
        for index in [1, 20, wrapped.count - 1] {
            var flipped = wrapped
            flipped[index] ^= 0x01
            candidates.append(flipped)
        }
        for candidate in candidates {
            let error = providerError { _ = try provider.unwrap(candidate) }
            #expect(error == .mismatch(provider: provider.kekID), "\(candidate.count) bytes")
        }
        #expect(provider.sessionObjectsLeft == 0)
    }

    @Test func anotherTokensKeyCannotUnwrap() throws {
        let (first, _, _) = try makeProvider("second-a")
        let (second, _, _) = try makeProvider("second-b")
        defer {
            first.close()
            second.close()
        }
        let dek = DataEncryptionKey.generate()
        let wrapped = try first.wrap(dek)
        let error = providerError { _ = try second.unwrap(wrapped) }
        #expect(error == .mismatch(provider: second.kekID))
        #expect(try first.unwrap(wrapped).hasSameBytes(as: dek))
    }

    @Test func aWrongPINFailsClearlyWithoutShowingAnyPIN() throws {
        let fixture = try SoftHSMFixture.shared.get()
        let token = fixture.token("wrong-pin")
        let wrongPIN = "not-the-pin-4Kd9"
        let provider = try PKCS11KEKProvider(uri: fixture.uri(for: token, pin: wrongPIN))
        defer { provider.close() }
        let error = providerError { _ = try provider.wrap(DataEncryptionKey.generate()) }
        guard case .misconfigured(_, let reason)? = error else {
            Issue.record("expected misconfigured, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("CKR_PIN_INCORRECT"))
        let text = String(describing: error)
        #expect(!text.contains(wrongPIN) && !text.contains(token.pin))
        #expect(provider.sessionsOpened == 1)
    }

    @Test func aMissingObjectLabelFailsClearly() throws {
        let fixture = try SoftHSMFixture.shared.get()
        let token = fixture.token("no-object")
        let provider = try PKCS11KEKProvider(uri: fixture.uri(for: token, path: "token=no-object;object=absent"))
        defer { provider.close() }
        let error = providerError { _ = try provider.wrap(DataEncryptionKey.generate()) }
        guard case .misconfigured(_, let reason)? = error else {
            Issue.record("expected misconfigured, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("no secret-key object labelled 'absent'"))
        #expect(!String(describing: error).contains(token.pin))
    }

    @Test func aMissingTokenIsUnavailable() throws {
        let fixture = try SoftHSMFixture.shared.get()
        let token = fixture.token("no-object")
        let provider = try PKCS11KEKProvider(uri: fixture.uri(for: token, path: "token=nowhere;object=kek"))
        defer { provider.close() }
        let error = providerError { _ = try provider.wrap(DataEncryptionKey.generate()) }
        guard case .unavailable(_, let reason)? = error else {
            Issue.record("expected unavailable, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("no token labelled 'nowhere'"))
    }

    @Test func aPINFileReadableByOthersIsRefused() throws {
        let fixture = try SoftHSMFixture.shared.get()
        let token = fixture.token("pin-mode")
        let uri = try fixture.uri(for: token, pinFileMode: 0o644)
        do {
            _ = try PKCS11KEKProvider(uri: uri)
            Issue.record("a PIN file with mode 0644 was accepted")
        } catch let error as KEKProviderError {
            guard case .misconfigured(_, let reason) = error else {
                Issue.record("expected misconfigured, got \(error)")
                return
            }
            #expect(reason.contains("ErrKEKFilePermissions") && reason.contains("0644"))
            #expect(!String(describing: error).contains(token.pin))
        }
    }

    @Test func aSessionClosedUnderTheProviderIsReopenedOnTheNextCall() throws {
        let (provider, token, fixture) = try makeProvider("reopen")
        defer { provider.close() }
        let dek = DataEncryptionKey.generate()
        let wrapped = try provider.wrap(dek)
        #expect(provider.sessionsOpened == 1)
        try fixture.module.closeAllSessions(slot: token.slot)
        #expect(try provider.unwrap(wrapped).hasSameBytes(as: dek))
        #expect(provider.sessionsOpened == 2)
        try fixture.module.closeAllSessions(slot: token.slot)
        #expect(try provider.unwrap(provider.wrap(dek)).hasSameBytes(as: dek))
        #expect(provider.sessionsOpened == 3)
    }

    @Test func concurrentCallsFromSeveralThreadsAllSucceed() throws {
        let (provider, _, _) = try makeProvider("concurrent")
        defer { provider.close() }
        let failures = Mutex<[String]>([])
        let roundTrips = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<10 {
                let dek = DataEncryptionKey.generate()
                do {
                    guard try provider.unwrap(provider.wrap(dek)).hasSameBytes(as: dek) else {
                        failures.withLock { $0.append("unwrapped another DEK") }
                        continue
                    }
                    roundTrips.withLock { $0 += 1 }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 } == [])
        #expect(roundTrips.withLock { $0 } == 80)
        #expect(provider.sessionsOpened == 1)
    }

    @Test func theKeyCanBeNamedByItsIDAndASlot() throws {
        let fixture = try SoftHSMFixture.shared.get()
        let token = fixture.token("by-id")
        let id = token.keyID.map { "%" + String(format: "%02X", $0) }.joined()
        let byID = try PKCS11KEKProvider(uri: fixture.uri(for: token, path: "slot-id=\(token.slot);id=\(id)"))
        let byLabel = try PKCS11KEKProvider(
            uri: fixture.uri(for: token, path: "token=by-id;object=kek;type=secret-key"))
        let wrongID = try PKCS11KEKProvider(uri: fixture.uri(for: token, path: "token=by-id;id=%A1%FF"))
        defer {
            byID.close()
            byLabel.close()
            wrongID.close()
        }
        let dek = DataEncryptionKey.generate()
        #expect(try byLabel.unwrap(byID.wrap(dek)).hasSameBytes(as: dek))
        let error = providerError { _ = try wrongID.wrap(dek) }
        guard case .misconfigured(_, let reason)? = error else {
            Issue.record("expected misconfigured, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("with id a1ff"))
    }

    @Test func aClosedProviderRefusesCallsAndLeavesTheModuleToOthers() throws {
        let (provider, _, _) = try makeProvider("close")
        let (other, _, _) = try makeProvider("close")
        defer { other.close() }
        let dek = DataEncryptionKey.generate()
        let wrapped = try provider.wrap(dek)
        provider.close()
        let error = providerError { _ = try provider.unwrap(wrapped) }
        guard case .misconfigured? = error else {
            Issue.record("expected misconfigured, got \(String(describing: error))")
            return
        }
        #expect(try other.unwrap(wrapped).hasSameBytes(as: dek))
    }
}

@Suite("PKCS11KEKProvider URIs")
struct PKCS11KEKProviderConfigurationTests {
    private let query = "?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/elastickv/pin"

    private func configuration(_ text: String) throws -> PKCS11KEKProvider.Configuration {
        try PKCS11KEKProvider.Configuration(uri: KEKURI(text))
    }

    private func refusal(_ text: String) -> KEKURIError? {
        do {
            _ = try configuration(text)
            Issue.record("\(text) was accepted")
        } catch let error as KEKURIError {
            return error
        } catch {
            Issue.record("expected a KEKURIError, got \(error)")
        }
        return nil
    }

    @Test func theDesignFormParses() throws {
        let parsed = try configuration("pkcs11:token=My%20HSM;object=kek" + query)
        #expect(parsed.tokenLabel == "My HSM")
        #expect(parsed.objectLabel == "kek")
        #expect(parsed.slotID == nil && parsed.objectID == nil)
        #expect(parsed.modulePath == "/usr/lib/softhsm/libsofthsm2.so")
        #expect(parsed.pinPath == "/etc/elastickv/pin")
        #expect(parsed.kekID == "pkcs11:token=My%20HSM;object=kek")
    }

    @Test func slotIDTypeAndRawIDParse() throws {
        let parsed = try configuration(
            "pkcs11:slot-id=42;id=%00%a1%FF;type=secret-key"
                + "?module-path=/m.so&pin-source=file:///etc/pin")
        #expect(parsed.slotID == 42)
        #expect(parsed.objectID == [0x00, 0xA1, 0xFF])
        #expect(parsed.tokenLabel == nil)
        #expect(parsed.pinPath == "/etc/pin")
    }

    @Test func unknownAttributesAndOptionsAreRefused() {
        #expect(
            refusal("pkcs11:token=T;object=O;serial=12" + query)
                == .unknownOptions(scheme: "pkcs11", names: ["serial"]))
        #expect(
            refusal("pkcs11:token=T;object=O" + query + "&module-name=softhsm2")
                == .unknownOptions(scheme: "pkcs11", names: ["module-name"]))
    }

    @Test func aPINValueIsRefusedWithoutRepeatingIt() {
        let error = refusal("pkcs11:token=T;object=O" + query + "&pin-value=s3cr3t-pin")
        guard case .invalidOption(_, let name, _)? = error else {
            Issue.record("expected invalidOption, got \(String(describing: error))")
            return
        }
        #expect(name == "pin-value")
        #expect(!String(describing: error).contains("s3cr3t-pin"))
    }

    @Test func malformedURIsAreRefused() {
        let cases: [(String, String)] = [
            ("pkcs11:object=O" + query, "token"),
            ("pkcs11:token=T" + query, "object"),
            ("pkcs11:token=T;token=U;object=O" + query, "token"),
            ("pkcs11:token=T;object=O;type=private" + query, "type"),
            ("pkcs11:token=T%G1;object=O" + query, "token"),
            ("pkcs11:token=T;object=O;slot-id=x" + query, "slot-id"),
            ("pkcs11:token=T;object" + query, "path"),
            ("pkcs11:token=T;object=O?module-path=lib.so&pin-source=file:/p", "module-path"),
            ("pkcs11:token=T;object=O?pin-source=file:/p", "module-path"),
            ("pkcs11:token=T;object=O?module-path=/m.so&pin-source=env:PIN", "pin-source"),
            ("pkcs11:token=T;object=O?module-path=/m.so&pin-source=file:pin", "pin-source"),
            ("pkcs11:token=T;object=O?module-path=/m.so", "pin-source"),
            ("pkcs11:token=\(String(repeating: "x", count: 33));object=O" + query, "token"),
        ]
        for (text, option) in cases {
            switch refusal(text) {
            case .missingOption(_, let name)?, .invalidOption(_, let name, _)?:
                #expect(name == option, "\(text)")
            case let other:
                Issue.record("\(text): expected a refusal naming \(option), got \(String(describing: other))")
            }
        }
    }
}

@Suite("PKCS11KEKProvider deadlines")
struct PKCS11KEKProviderDeadlineTests {
    typealias PendingCall = PKCS11KEKProvider.PendingCall<Int>

    @Test func aCallThatAnswersInTimeReturnsItsResult() {
        let call = PendingCall()
        DispatchQueue.global().async { call.run { 7 } }
        #expect(call.wait(for: .seconds(5)) == .success(7))
    }

    @Test func aCallThatOutlivesItsDeadlineIsAbandonedAndItsResultDropped() {
        let call = PendingCall()
        let finished = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            call.run {
                usleep(200_000)
                return 7
            }
            finished.signal()
        }
        let started = ContinuousClock.now
        #expect(call.wait(for: .milliseconds(20)) == nil)
        #expect(ContinuousClock.now - started < .milliseconds(190))
        #expect(finished.wait(timeout: .now() + .seconds(5)) == .success)
    }

    @Test func aCallAbandonedBeforeItsTurnNeverRuns() {
        let call = PendingCall()
        #expect(call.wait(for: .milliseconds(1)) == nil)
        let ran = Mutex(false)
        call.run {
            ran.withLock { $0 = true }
            return 7
        }
        #expect(!ran.withLock { $0 })
    }
}
