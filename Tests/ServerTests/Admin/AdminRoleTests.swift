import ControlPlane
import Foundation
import Testing
import TestSupport
import X509

/// The admin role of DESIGN §11 read from real certificates (scripts/make-test-certs.sh, openssl), and the
/// admin CLI's TLS options.
@Suite struct AdminRoleTests {
    static var makeCerts: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/make-test-certs.sh").path
    }

    @Test func onlyACertificateWithOUAdminHoldsTheRole() throws {
        let directory = TemporaryDirectory("admin-role")
        defer { directory.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.makeCerts)
        process.arguments = [directory.file("certs"), "n1"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "make-test-certs.sh failed (is openssl installed?)")
        func certificate(_ name: String) throws -> Certificate {
            try Certificate(pemEncoded: String(contentsOfFile: directory.file("certs/\(name).pem"), encoding: .utf8))
        }
        #expect(AdminRole.holds(try certificate("admin")))
        #expect(!AdminRole.holds(try certificate("client")), "a client certificate without OU=admin")
        #expect(!AdminRole.holds(try certificate("n1")), "a node's certificate does not administer")
        #expect(!AdminRole.holds(nil), "no certificate (plaintext or none presented)")
        #expect(!AdminRole.denial.contains("BEGIN"), "the refusal names the role, never certificate material")
    }

    @Test func leadingTLSOptionsAreGlobal() throws {
        let (globals, remaining) = try AdminGlobalArguments.split(
            ["--tls-cert-file", "a.pem", "--tls-key-file=a.key", "--tls-ca-file", "ca.pem", "cluster", "status"])
        #expect(globals.tlsCertificateFile == "a.pem" && globals.tlsKeyFile == "a.key" && globals.tlsCAFile == "ca.pem")
        #expect(remaining == ["cluster", "status"])
        #expect(throws: AdminGlobalArguments.UsageError.self) { try AdminGlobalArguments.split(["--tls-ca-file"]) }
    }
}
