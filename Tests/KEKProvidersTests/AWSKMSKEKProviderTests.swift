import AsyncHTTPClient
import Encryption
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import TestSupport

@testable import KEKProviders

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The `aws-kms:` provider against a real `moto_server` with IAM authentication on: moto checks every signature
/// with botocore and every access key against its IAM users, so these tests also prove the signer end to end.
@Suite(.serialized, .motoServer)
struct AWSKMSKEKProviderTests {
    var moto: MotoContext { MotoContext.current! }  // set by the suite's trait for every test in it

    @Test func wrapThenUnwrapRoundTrips() throws {
        let provider = try moto.provider(key: try moto.createKey())
        defer { provider.shutdown() }
        let dek = DataEncryptionKey.generate()
        let wrapped = try provider.wrap(dek)
        #expect(wrapped.count > DataEncryptionKey.byteCount)
        #expect(try provider.unwrap(wrapped).hasSameBytes(as: dek))
    }

    @Test func aliasWrapsWhatTheKeyARNUnwraps() throws {
        let arn = try moto.createKey()
        _ = try moto.kms("TrentService.CreateAlias", ["AliasName": "alias/elastickv-kek", "TargetKeyId": arn])
        let byAlias = try moto.provider(key: "alias/elastickv-kek")
        let byARN = try moto.provider(key: arn)
        defer { byAlias.shutdown(); byARN.shutdown() }
        let dek = DataEncryptionKey.generate()
        #expect(try byARN.unwrap(try byAlias.wrap(dek)).hasSameBytes(as: dek))
    }

    @Test func wrapsOfTwoDEKsDiffer() throws {
        let provider = try moto.provider(key: try moto.createKey())
        defer { provider.shutdown() }
        let first = DataEncryptionKey.generate()
        let second = DataEncryptionKey.generate()
        #expect(try provider.wrap(first) != provider.wrap(second))
        #expect(try provider.wrap(first) != provider.wrap(first))  // KMS ciphertexts are randomised
    }

    /// moto answers AccessDeniedException for a blob of another key named by KeyId (AWS KMS answers
    /// IncorrectKeyException, which maps to a mismatch).
    @Test func unwrapWithAnotherKeyIsRejected() throws {
        let wrapping = try moto.provider(key: try moto.createKey())
        let other = try moto.provider(key: try moto.createKey())
        defer { wrapping.shutdown(); other.shutdown() }
        let error = try #require(throws: KEKProviderError.self) { try other.unwrap(try wrapping.wrap(.generate())) }
        guard case .rejected(_, let reason) = error else { Issue.record("expected a refusal, got \(error)"); return }
        #expect(reason.contains("AccessDeniedException"))
        moto.expectNoSecrets(in: error)
    }

    @Test func alteredBytesAreAMismatch() throws {
        let provider = try moto.provider(key: try moto.createKey())
        defer { provider.shutdown() }
        var altered = try provider.wrap(.generate())
        altered[altered.count - 1] ^= 0x01
        let error = try #require(throws: KEKProviderError.self) { try provider.unwrap(altered) }
        #expect(error == .mismatch(provider: provider.id))
        #expect(error.description.contains("ErrKEKMismatch"))
        let truncated = try #require(throws: KEKProviderError.self) { try provider.unwrap(Array(altered.prefix(8))) }
        #expect(truncated == .mismatch(provider: provider.id))
    }

    @Test func blobOfSomethingElseThanADEKIsAMismatch() throws {
        let key = try moto.createKey()
        let provider = try moto.provider(key: key)
        defer { provider.shutdown() }
        let sixteenBytes = Data(repeating: 7, count: 16).base64EncodedString()
        let encrypted = try moto.kms("TrentService.Encrypt", ["KeyId": key, "Plaintext": sixteenBytes])
        let text = try #require(encrypted["CiphertextBlob"] as? String)
        let blob = try #require(Data(base64Encoded: text))
        #expect(throws: KEKProviderError.mismatch(provider: provider.id)) { try provider.unwrap(Array(blob)) }
    }

    @Test func anotherEncryptionContextDoesNotUnwrap() throws {
        let key = try moto.createKey()
        let one = try moto.provider(key: key, encryptionContext: ["cluster": "one", "purpose": "elastickv-kek"])
        let two = try moto.provider(key: key, encryptionContext: ["cluster": "two", "purpose": "elastickv-kek"])
        defer { one.shutdown(); two.shutdown() }
        let dek = DataEncryptionKey.generate()
        let wrapped = try one.wrap(dek)
        #expect(try one.unwrap(wrapped).hasSameBytes(as: dek))
        #expect(throws: KEKProviderError.mismatch(provider: two.id)) { try two.unwrap(wrapped) }
    }

    @Test func wrongCredentialsAreRejected() throws {
        let key = try moto.createKey()
        let cases: [[String: String]] = [
            ["AWS_ACCESS_KEY_ID": "AKIAUNKNOWNUNKNOWN00", "AWS_SECRET_ACCESS_KEY": "not-the-secret-of-anyone"],
            ["AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": "a-wrong-secret-for-a-known-key"],
            [
                "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey,
                "AWS_SESSION_TOKEN": "a-session-token-moto-never-issued",
            ],
        ]
        for environment in cases {
            let provider = try moto.provider(key: key, environment: environment)
            defer { provider.shutdown() }
            let error = try #require(throws: KEKProviderError.self) { try provider.wrap(.generate()) }
            guard case .rejected(_, let reason) = error else {
                Issue.record("expected a refusal, got \(error)"); continue
            }
            #expect(reason.contains("HTTP 403"))
            moto.expectNoSecrets(in: error, also: environment.values.filter { $0.count > 20 })
        }
    }

    @Test func temporaryCredentialsFromAssumeRoleWork() throws {
        let answer = try moto.query(
            service: "sts",
            [
                "Action": "AssumeRole", "Version": "2011-06-15", "RoleSessionName": "elastickv-test",
                "RoleArn": "arn:aws:iam::123456789012:role/\(MotoContext.roleName)",
            ])
        let temporary = [
            "AWS_ACCESS_KEY_ID": try MotoContext.element("AccessKeyId", in: answer),
            "AWS_SECRET_ACCESS_KEY": try MotoContext.element("SecretAccessKey", in: answer),
            "AWS_SESSION_TOKEN": try MotoContext.element("SessionToken", in: answer),
        ]
        let provider = try moto.provider(key: try moto.createKey(), environment: temporary)
        defer { provider.shutdown() }
        let dek = DataEncryptionKey.generate()
        #expect(try provider.unwrap(try provider.wrap(dek)).hasSameBytes(as: dek))
    }

    @Test func profileOfTheSharedCredentialsFileIsUsed() throws {
        let directory = try AWSTestDirectory()
        let path = directory.path + "/credentials"
        try """
        # written by the test
        [default]
        aws_access_key_id = AKIAUNKNOWNUNKNOWN00
        aws_secret_access_key = not-the-secret-of-anyone

        [kek]
        aws_access_key_id = \(moto.accessKeyID)
        aws_secret_access_key = \(moto.secretAccessKey)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let environment = ["AWS_SHARED_CREDENTIALS_FILE": path, "HOME": directory.path]
        let provider = try moto.provider(key: try moto.createKey(), environment: environment, profile: "kek")
        defer { provider.shutdown() }
        let dek = DataEncryptionKey.generate()
        #expect(try provider.unwrap(try provider.wrap(dek)).hasSameBytes(as: dek))
    }

    @Test func unknownKeyIsRejected() throws {
        let provider = try moto.provider(
            key: "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000")
        defer { provider.shutdown() }
        let error = try #require(throws: KEKProviderError.self) { try provider.wrap(.generate()) }
        guard case .rejected(_, let reason) = error else { Issue.record("expected a refusal, got \(error)"); return }
        #expect(reason.contains("NotFoundException"))
        moto.expectNoSecrets(in: error)
    }
}

/// Failures that need no KMS answer: a server that went away, one that never answers, no credentials.
@Suite struct AWSKMSKEKProviderOutageTests {
    @Test func stoppedServerIsUnavailableWithinTheDeadline() async throws {
        try await BlockingWork.run {  // starts and stops a process
            let server = try MotoServer.start()
            var running: MotoServer? = server
            defer { running?.stop() }
            let environment = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "an-unchecked-test-secret"]
            let uri = try KEKURI("aws-kms:alias/unused?region=us-east-1&endpoint=\(server.endpoint)")
            let provider = try AWSKMSKEKProvider(uri: uri, callTimeout: .seconds(2), environment: environment)
            defer { provider.shutdown() }
            let created = try provider.call(target: "TrentService.CreateKey", body: Array("{}".utf8))
            #expect(!created.isEmpty)
            server.stop(grace: .zero)  // gone at once, as a crashed or unplugged server
            running = nil
            let clock = ContinuousClock()
            let start = clock.now
            let error = try #require(throws: KEKProviderError.self) { try provider.wrap(.generate()) }
            #expect(clock.now - start < .seconds(3))
            #expect(error.isTransient)
            #expect(error.description.contains("ErrKEKUnavailable"))
            #expect(!error.description.contains("an-unchecked-test-secret"))
        }
    }

    @Test func silentServerTimesOutAsUnavailable() throws {
        let listener = try AWSSilentListener()
        defer { listener.close() }
        let uri = try KEKURI("aws-kms:alias/unused?region=us-east-1&endpoint=http://127.0.0.1:\(listener.port)")
        let environment = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "an-unchecked-test-secret"]
        let provider = try AWSKMSKEKProvider(uri: uri, callTimeout: .milliseconds(800), environment: environment)
        defer { provider.shutdown() }
        let clock = ContinuousClock()
        let start = clock.now
        let error = try #require(throws: KEKProviderError.self) { try provider.unwrap([1, 2, 3]) }
        let elapsed = clock.now - start
        #expect(elapsed >= .milliseconds(700) && elapsed < .seconds(3))
        guard case .unavailable(_, let reason) = error else {
            Issue.record("expected unavailable, got \(error)"); return
        }
        #expect(reason.contains("did not answer within"))
    }

    @Test func missingCredentialsAreMisconfigured() throws {
        let directory = try AWSTestDirectory()
        let uri = try KEKURI("aws-kms:alias/unused?region=us-east-1&endpoint=http://127.0.0.1:9")
        let provider = try AWSKMSKEKProvider(uri: uri, environment: ["HOME": directory.path])
        defer { provider.shutdown() }
        let error = try #require(throws: KEKProviderError.self) { try provider.wrap(.generate()) }
        guard case .misconfigured(_, let reason) = error else {
            Issue.record("expected misconfigured, got \(error)"); return
        }
        #expect(reason.contains("AWS_ACCESS_KEY_ID"))
        #expect(reason.contains(directory.path + "/.aws/credentials"))
    }
}

/// What the `aws-kms:` URI accepts and refuses, and what the provider shows of itself.
@Suite struct AWSKMSKEKProviderURITests {
    static let environment = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "unused"]

    func provider(_ text: String, environment: [String: String] = environment) throws -> AWSKMSKEKProvider {
        try AWSKMSKEKProvider(uri: try KEKURI(text), environment: environment)
    }

    @Test func defaultEndpointIsTheRegionalOne() throws {
        let provider = try provider("aws-kms:alias/k?region=eu-west-1")
        defer { provider.shutdown() }
        #expect(provider.endpoint == "https://kms.eu-west-1.amazonaws.com")
        #expect(provider.id == "aws-kms:alias/k")
        #expect(provider.checkValue == "aws-kms:alias/k")
        #expect(provider.kekID == nil)
        let china = try self.provider("aws-kms:alias/k?region=cn-north-1")
        defer { china.shutdown() }
        #expect(china.endpoint == "https://kms.cn-north-1.amazonaws.com.cn")
    }

    @Test func regionComesFromTheEnvironmentThenTheARN() throws {
        let fromEnvironment = try provider("aws-kms:alias/k", environment: ["AWS_DEFAULT_REGION": "ap-south-1"])
        let preferred = try provider(
            "aws-kms:alias/k", environment: ["AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "x"])
        let fromARN = try provider("aws-kms:arn:aws:kms:sa-east-1:111122223333:key/abcd", environment: [:])
        defer { fromEnvironment.shutdown(); preferred.shutdown(); fromARN.shutdown() }
        #expect(fromEnvironment.region == "ap-south-1")
        #expect(preferred.region == "us-west-2")
        #expect(fromARN.region == "sa-east-1")
    }

    @Test func endpointKeepsAPortAndDropsADefaultOne() throws {
        let local = try provider("aws-kms:alias/k?region=us-east-1&endpoint=http://127.0.0.1:4566/")
        let https = try provider("aws-kms:alias/k?region=us-east-1&endpoint=https://kms.example:443")
        defer { local.shutdown(); https.shutdown() }
        #expect(local.endpoint == "http://127.0.0.1:4566")
        #expect(https.endpoint == "https://kms.example")
    }

    @Test(arguments: [
        ("aws-kms:alias/k?region=us-east-1&regoin=x", KEKURIError.unknownOptions(scheme: "aws-kms", names: ["regoin"])),
        ("aws-kms:alias/k", KEKURIError.missingOption(scheme: "aws-kms", name: "region")),
        ("file:/tmp/kek", KEKURIError.unknownScheme("file")),
    ])
    func refusesURI(_ text: String, _ expected: KEKURIError) throws {
        #expect(throws: expected) { _ = try provider(text, environment: [:]) }
    }

    @Test(arguments: [
        "aws-kms:alias/k?region=us-east-1&endpoint=ftp://kms.example",
        "aws-kms:alias/k?region=us-east-1&endpoint=https://kms.example/path",
        "aws-kms:alias/k?region=us-east-1&endpoint=https://kms.example/?x=1",
        "aws-kms:alias/k?region=us-east-1&endpoint=kms.example",
        "aws-kms:alias/k?region=US_EAST&endpoint=https://kms.example",
        "aws-kms:alias/k?region=us-east-1&profile=",
    ])
    func refusesMalformedOption(_ text: String) throws {
        let error = try #require(throws: KEKURIError.self) { _ = try provider(text) }
        guard case .invalidOption = error else { Issue.record("expected an invalid option, got \(error)"); return }
    }
}

/// Where credentials come from, in which order, and that their descriptions hide the secrets.
@Suite struct AWSCredentialsTests {
    @Test func environmentCredentialsWithSessionToken() throws {
        let credentials = try AWSCredentials.resolve(
            profile: nil,
            environment: [
                "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret-value",
                "AWS_SESSION_TOKEN": "env-token",
            ])
        #expect(credentials.accessKeyID == "AKIAENV")
        #expect(credentials.sessionToken == "env-token")
        #expect(credentials.secretAccessKey.withUnsafeBytes { Array($0) } == Array("env-secret-value".utf8))
        #expect(!credentials.description.contains("env-secret-value"))
        #expect(!credentials.description.contains("env-token"))
    }

    @Test func incompleteEnvironmentNamesTheMissingVariable() throws {
        #expect(throws: AWSCredentials.Failure.incompleteEnvironment(missing: "AWS_SECRET_ACCESS_KEY")) {
            _ = try AWSCredentials.resolve(profile: nil, environment: ["AWS_ACCESS_KEY_ID": "AKIA"])
        }
    }

    @Test func fileProfilesAreChosenByURIThenAWSProfileThenDefault() throws {
        let directory = try AWSTestDirectory()
        try FileManager.default.createDirectory(atPath: directory.path + "/.aws", withIntermediateDirectories: true)
        try """
        ; comment
        [default]
        aws_access_key_id=AKIADEFAULT
        aws_secret_access_key=default-secret
          [ ops ]
          AWS_ACCESS_KEY_ID = AKIAOPS
          aws_secret_access_key = ops-secret
          aws_session_token = ops-token
        [uri]
        aws_access_key_id = AKIAURI
        aws_secret_access_key = uri-secret
        """.write(toFile: directory.path + "/.aws/credentials", atomically: true, encoding: .utf8)
        let home = ["HOME": directory.path]
        #expect(try AWSCredentials.resolve(profile: nil, environment: home).accessKeyID == "AKIADEFAULT")
        let ops = try AWSCredentials.resolve(profile: nil, environment: home.merging(["AWS_PROFILE": "ops"]) { $1 })
        #expect(ops.accessKeyID == "AKIAOPS")
        #expect(ops.sessionToken == "ops-token")
        let withEnvironment = home.merging(["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env"]) { $1 }
        #expect(try AWSCredentials.resolve(profile: "uri", environment: withEnvironment).accessKeyID == "AKIAURI")
        #expect(try AWSCredentials.resolve(profile: nil, environment: withEnvironment).accessKeyID == "AKIAENV")
    }

    @Test func missingAndIncompleteProfilesAreNamed() throws {
        let directory = try AWSTestDirectory()
        let path = directory.path + "/creds"
        try "[half]\naws_access_key_id = AKIAHALF\n".write(toFile: path, atomically: true, encoding: .utf8)
        let environment = ["AWS_SHARED_CREDENTIALS_FILE": path]
        #expect(throws: AWSCredentials.Failure.notFound(profile: "default", path: path)) {
            _ = try AWSCredentials.resolve(profile: nil, environment: environment)
        }
        #expect(
            throws: AWSCredentials.Failure.incompleteProfile(
                profile: "half", path: path,
                missing: "aws_secret_access_key")
        ) {
            _ = try AWSCredentials.resolve(profile: "half", environment: environment)
        }
        #expect(AWSCredentials.credentialsFilePath(["HOME": "/h", "AWS_SHARED_CREDENTIALS_FILE": "~/c"]) == "/h/c")
    }
}

/// The JSON and base64 pieces that handle key material without Foundation's strings.
@Suite struct AWSKMSWireTests {
    @Test func base64MatchesFoundation() {
        for count in 0..<70 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let encoded = bytes.withUnsafeBytes { AWSKMSWire.base64Encoded($0) }
            #expect(String(decoding: encoded, as: UTF8.self) == Data(bytes).base64EncodedString())
            #expect(AWSKMSWire.base64Decoded(encoded) == bytes)
        }
    }

    @Test(arguments: ["A", "AB=C", "ABC*", "A===", "AAAA====", "=AAA"])
    func base64RefusesMalformedText(_ text: String) {
        #expect(AWSKMSWire.base64Decoded(Array(text.utf8)) == nil)
    }

    @Test func stringMemberSkipsOtherValuesAndUnescapes() {
        let json = Array(
            #"""
            { "KeyId" : "arn:aws:kms:x", "Nested": {"Plaintext": "no", "a": [1, {"b": "}"}]}, "Count": -1.5e3,
              "Flag": true, "Plaintext": "a\/b\u00e9\n\"\ud83d\ude00", "Last": null }
            """#.utf8)
        #expect(AWSKMSWire.stringMember("Plaintext", in: json) == Array("a/bé\n\"😀".utf8))
        #expect(AWSKMSWire.stringMember("KeyId", in: json) == Array("arn:aws:kms:x".utf8))
        #expect(AWSKMSWire.stringMember("Count", in: json) == nil)
        #expect(AWSKMSWire.stringMember("Absent", in: json) == nil)
        #expect(AWSKMSWire.stringMember("x", in: Array(#"["x"]"#.utf8)) == nil)
        #expect(AWSKMSWire.stringMember("x", in: Array(#"{"x": "unterminated"#.utf8)) == nil)
    }

    @Test func objectWriterEscapesAndSortsTheContext() {
        var writer = AWSKMSWire.ObjectWriter(capacity: 128)
        writer.member("KeyId", string: "alias/\"q\"\\")
        writer.member("EncryptionContext", stringMap: ["z": "last", "a": "line\nbreak"])
        let text = String(decoding: writer.finish(), as: UTF8.self)
        #expect(text == #"{"KeyId":"alias/\"q\"\\","EncryptionContext":{"a":"line\u000abreak","z":"last"}}"#)
        let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(parsed?["KeyId"] as? String == "alias/\"q\"\\")
    }

    @Test func errorTypeAndMessageAreNormalised() {
        let json = Array(
            #"{"__type":"com.amazonaws.kms#ThrottlingException:http://internal","message":"slow\ndown"}"#.utf8)
        #expect(AWSKMSWire.errorType(in: json) == "ThrottlingException")
        #expect(AWSKMSWire.errorMessage(in: json, limit: 240) == "slow")
        let xml = Array("<ErrorResponse><Error><Code>InvalidClientTokenId</Code><Message>bad token</Message>".utf8)
        #expect(AWSKMSWire.errorType(in: xml) == "InvalidClientTokenId")
        #expect(AWSKMSWire.errorMessage(in: xml, limit: 3) == "bad")
        #expect(AWSKMSWire.errorType(in: Array("<html>".utf8)) == nil)
    }
}

// MARK: - Harness

/// The moto server of ``AWSKMSKEKProviderTests`` and the IAM user the tests sign as (IAM authentication is on
/// from the end of the set-up: unknown keys and bad signatures are refused).
struct MotoContext: Sendable {
    @TaskLocal static var current: MotoContext?
    static let userName = "elastickv-kek"
    static let roleName = "elastickv-kek-role"

    let endpoint: String
    let accessKeyID: String
    let secretAccessKey: String

    /// A provider of `key` on the moto server, signing as the test user unless `environment` says otherwise.
    func provider(
        key: String, encryptionContext: [String: String] = [:], environment: [String: String]? = nil,
        profile: String? = nil
    ) throws -> AWSKMSKEKProvider {
        let query = "region=us-east-1&endpoint=\(endpoint)" + (profile.map { "&profile=\($0)" } ?? "")
        let environment =
            environment ?? [
                "AWS_ACCESS_KEY_ID": accessKeyID, "AWS_SECRET_ACCESS_KEY": secretAccessKey, "HOME": "/nonexistent",
            ]
        return try AWSKMSKEKProvider(
            uri: try KEKURI("aws-kms:\(key)?\(query)"), encryptionContext: encryptionContext,
            callTimeout: .seconds(10), environment: environment)
    }

    /// A KMS JSON call signed as the test user; the answer as JSON.
    func kms(_ target: String, _ members: [String: String]) throws -> [String: Any] {
        let provider = try self.provider(key: "unused")
        defer { provider.shutdown() }
        let answer = try provider.call(target: target, body: Array(try JSONSerialization.data(withJSONObject: members)))
        // Some calls (CreateAlias) answer `null`.
        return try JSONSerialization.jsonObject(with: Data(answer), options: .fragmentsAllowed) as? [String: Any] ?? [:]
    }

    /// A new symmetric key's ARN.
    func createKey() throws -> String {
        let metadata = try #require(try kms("TrentService.CreateKey", [:])["KeyMetadata"] as? [String: Any])
        return try #require(metadata["Arn"] as? String)
    }

    /// A query-protocol call (IAM, STS) signed as the test user; the XML answer.
    func query(service: String, _ parameters: [String: String]) throws -> String {
        try MotoServer.query(
            endpoint: endpoint, service: service, parameters: parameters,
            credentials: AWSCredentials(
                accessKeyID: accessKeyID, secretAccessKey: secretAccessKey,
                source: "moto user"))
    }

    /// Checks that an error's description shows none of the test's secrets nor any part of a signature.
    func expectNoSecrets(
        in error: KEKProviderError, also secrets: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let text = error.description
        for secret in [secretAccessKey, "Signature=", "Credential=", "AWS4-HMAC-SHA256", "Authorization"] + secrets {
            #expect(!text.contains(secret), "\(text) shows a secret", sourceLocation: sourceLocation)
        }
    }

    /// The text of the first `<name>` element of an XML answer.
    static func element(_ name: String, in xml: String) throws -> String {
        guard let open = xml.range(of: "<\(name)>"),
            let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex)
        else { throw AWSTestTool.Failure("no <\(name)> in the answer: \(xml.prefix(500))") }
        return String(xml[open.upperBound..<close.lowerBound])
    }
}

/// Starts one moto server for a suite, creates the IAM user, its policy and a role it may assume while
/// authentication is still off, turns authentication on, and stops the server when the suite is done.
struct MotoServerTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void)
        async throws
    {
        // Starting and stopping the server wait on a process: off the cooperative pool.
        let server = try await BlockingWork.run { try MotoServer.start() }
        do {
            let context = try await BlockingWork.run { try server.prepareAuthenticatedUser() }
            try await MotoContext.$current.withValue(context) { try await function() }
        } catch {
            try await BlockingWork.run { server.stop() }
            throw error
        }
        try await BlockingWork.run { server.stop() }
    }
}

extension Trait where Self == MotoServerTrait {
    /// Runs the suite against a fresh `moto_server` with IAM authentication on.
    static var motoServer: Self { Self() }
}

/// A `moto_server` process on 127.0.0.1 and an ephemeral port.
final class MotoServer: @unchecked Sendable {  // the process is only started and stopped, under `lock`
    static let startupLimit: Duration = .seconds(30)
    static let installHint = "moto_server (pip install 'moto[server]')"
    let port: Int
    let endpoint: String
    private let process: Process
    private let log: AWSTestDirectory
    private let lock = NSLock()

    private init(port: Int, process: Process, log: AWSTestDirectory) {
        self.port = port
        self.endpoint = "http://127.0.0.1:\(port)"
        self.process = process
        self.log = log
    }

    /// Starts moto and waits, bounded, until it accepts connections.
    ///
    /// - Throws: when `moto_server` is not installed (naming `pip install 'moto[server]'`) or does not start.
    static func start() throws -> MotoServer {
        let executable = try AWSTestTool.locate("moto_server", installHint: installHint)
        let port = try AWSTestSocket.freePort()
        let log = try AWSTestDirectory()
        let process = Process()
        process.executableURL = executable
        process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
        _ = FileManager.default.createFile(atPath: log.path + "/moto.log", contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log.path + "/moto.log"))
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let server = MotoServer(port: port, process: process, log: log)
        let deadline = ContinuousClock.now + startupLimit
        while !AWSTestSocket.accepts(port: port) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                server.stop()
                let text = (try? String(contentsOfFile: log.path + "/moto.log", encoding: .utf8)) ?? ""
                throw AWSTestTool.Failure("moto_server did not start on port \(port): \(text.suffix(2000))")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return server
    }

    /// Stops the server: SIGTERM, then SIGKILL after `grace` (moto waits for open keep-alive connections);
    /// safe to call twice.
    func stop(grace: Duration = .seconds(5)) {
        lock.lock()
        defer { lock.unlock() }
        guard process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + grace
        while process.isRunning, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Creates the IAM user (allowed `kms:*` and `sts:AssumeRole`), its access key and a role it may assume, then
    /// turns IAM authentication on for every later request.
    func prepareAuthenticatedUser() throws -> MotoContext {
        let setup = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "unchecked", source: "set-up")
        func iam(_ parameters: [String: String]) throws -> String {
            try Self.query(
                endpoint: endpoint, service: "iam", parameters: parameters.merging(["Version": "2010-05-08"]) { $1 },
                credentials: setup)
        }
        let allow =
            #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:*","sts:AssumeRole"],"#
            + #""Resource":"*"}]}"#
        let trust =
            #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"#
            + #""arn:aws:iam::123456789012:user/\#(MotoContext.userName)"},"Action":"sts:AssumeRole"}]}"#
        _ = try iam(["Action": "CreateUser", "UserName": MotoContext.userName])
        _ = try iam([
            "Action": "PutUserPolicy", "UserName": MotoContext.userName, "PolicyName": "kek",
            "PolicyDocument": allow,
        ])
        let key = try iam(["Action": "CreateAccessKey", "UserName": MotoContext.userName])
        _ = try iam(["Action": "CreateRole", "RoleName": MotoContext.roleName, "AssumeRolePolicyDocument": trust])
        _ = try iam([
            "Action": "PutRolePolicy", "RoleName": MotoContext.roleName, "PolicyName": "kek",
            "PolicyDocument": allow,
        ])
        let reset = try HTTPClient.Request(
            url: endpoint + "/moto-api/reset-auth", method: .POST,
            headers: ["Content-Type": "text/plain"], body: .string("0"))
        let answer = try HTTPClient.shared.execute(request: reset, deadline: .now() + .seconds(10)).wait()
        guard answer.status == .ok else { throw AWSTestTool.Failure("moto refused to turn authentication on") }
        return MotoContext(
            endpoint: endpoint, accessKeyID: try MotoContext.element("AccessKeyId", in: key),
            secretAccessKey: try MotoContext.element("SecretAccessKey", in: key))
    }

    /// A form-encoded query-protocol POST signed with ``AWSSigV4``; the answer's body, or a thrown failure.
    static func query(endpoint: String, service: String, parameters: [String: String], credentials: AWSCredentials)
        throws -> String
    {
        let body = Array(
            parameters.sorted { $0.key < $1.key }
                .map { "\(AWSSigV4.uriEncode($0.key))=\(AWSSigV4.uriEncode($0.value))" }.joined(separator: "&").utf8)
        let date = Date()
        let host = String(endpoint.dropFirst("http://".count))
        var headers: [(name: String, value: String)] = [
            ("Host", host), ("X-Amz-Date", AWSSigV4.amzDate(date)),
            ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
        ]
        let signature = AWSSigV4.sign(
            .init(method: "POST", headers: headers, body: body), credentials: credentials,
            date: date, region: "us-east-1", service: service)
        headers.append(("Authorization", signature.authorization))
        let request = try HTTPClient.Request(
            url: endpoint + "/", method: .POST,
            headers: HTTPHeaders(headers.map { ($0.name, $0.value) }),
            body: .bytes(body))
        let answer = try HTTPClient.shared.execute(request: request, deadline: .now() + .seconds(10)).wait()
        let text = answer.body.map { String(buffer: $0) } ?? ""
        guard answer.status == .ok else {
            throw AWSTestTool.Failure(
                "\(parameters["Action"] ?? service) answered \(answer.status): \(text.prefix(500))")
        }
        return text
    }
}

/// Finds and runs programs a test needs, with bounded waits.
enum AWSTestTool {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    struct Output {
        let status: Int32
        let standardOutput: Data
        let standardError: Data
    }

    /// `name` on PATH, else next to the first `python3` on PATH (a venv's or pyenv's bin).
    ///
    /// - Throws: a failure naming `installHint` when it is nowhere.
    static func locate(_ name: String, installHint: String) throws -> URL {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        var candidates = directories.map { "\($0)/\(name)" }
        if let python = directories.map({ "\($0)/python3" }).first(where: FileManager.default.isExecutableFile) {
            let resolved = URL(fileURLWithPath: python).resolvingSymlinksInPath().deletingLastPathComponent().path
            candidates.append("\(resolved)/\(name)")
        }
        guard let found = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw Failure("\(name) is not installed (looked on PATH and next to python3): install \(installHint)")
        }
        return URL(fileURLWithPath: found)
    }

    /// Runs `executable` with `input` on stdin; kills it and throws after `timeout`.
    static func run(_ executable: URL, arguments: [String], input: Data, timeout: Duration) throws -> Output {
        let directory = try AWSTestDirectory()
        let paths = ["in", "out", "err"].map { directory.path + "/" + $0 }
        _ = FileManager.default.createFile(atPath: paths[0], contents: input)
        for path in paths.dropFirst() { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: paths[0]))
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: paths[1]))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: paths[2]))
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw Failure("\(executable.lastPathComponent) did not finish within \(timeout)")
        }
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus,
            standardOutput: FileManager.default.contents(atPath: paths[1]) ?? Data(),
            standardError: FileManager.default.contents(atPath: paths[2]) ?? Data())
    }
}

#if canImport(Glibc)
    private func systemBind(_ descriptor: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
        Glibc.bind(descriptor, address, length)
    }
    private func closeSocket(_ descriptor: Int32) { _ = Glibc.close(descriptor) }
#else
    private func systemBind(_ descriptor: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
        Darwin.bind(descriptor, address, length)
    }
    private func closeSocket(_ descriptor: Int32) { _ = Darwin.close(descriptor) }
#endif

/// IPv4 loopback sockets: a free port (from a temporary bind) and whether a port accepts connections.
enum AWSTestSocket {
    static func address(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    static func socketDescriptor() throws -> Int32 {
        #if canImport(Glibc)
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw AWSTestTool.Failure("socket() failed: errno \(errno)") }
        return descriptor
    }

    /// Binds `descriptor` to 127.0.0.1:`port` (0: any free port) and returns the bound port.
    static func bind(_ descriptor: Int32, port: Int) throws -> Int {
        var address = address(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                systemBind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw AWSTestTool.Failure("bind() failed: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func freePort() throws -> Int {
        let descriptor = try socketDescriptor()
        defer { closeSocket(descriptor) }
        return try bind(descriptor, port: 0)
    }

    static func accepts(port: Int) -> Bool {
        guard let descriptor = try? socketDescriptor() else { return false }
        defer { closeSocket(descriptor) }
        var address = address(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// A socket on 127.0.0.1 that listens and never accepts: connections succeed (the kernel's backlog) and no
/// answer ever comes.
final class AWSSilentListener {
    let port: Int
    private var descriptor: Int32

    init() throws {
        descriptor = try AWSTestSocket.socketDescriptor()
        port = try AWSTestSocket.bind(descriptor, port: 0)
        guard listen(descriptor, 8) == 0 else { throw AWSTestTool.Failure("listen() failed: errno \(errno)") }
    }

    func close() {
        guard descriptor >= 0 else { return }
        closeSocket(descriptor)
        descriptor = -1
    }

    deinit { close() }
}

/// A directory under the system's temporary directory, removed when the value is freed.
final class AWSTestDirectory: @unchecked Sendable {  // immutable after init
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("elastickv-aws-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
