import Encryption
import Foundation

// Seal and open throughput of the envelope on one core, next to `openssl speed -evp aes-256-gcm` for the same
// sizes in the same run. Two paths are measured: `Envelope` with a prepared key and nonce factory (the cipher
// itself), and `SealingKeyring` (key lookup, nonce, envelope: what the storage layer calls). OpenSSL's figure
// is bulk encryption on one context without per-message set-up, so it is an upper bound for both.

let sizes = [64, 1024, 16 * 1024]
let secondsPerMeasurement = 1.0

/// Runs `operation` in batches until `seconds` passed; returns bytes per second for `bytesPerOperation`.
func measure(bytesPerOperation: Int, seconds: Double, _ operation: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    let warmUpEnd = clock.now.advanced(by: .milliseconds(100))
    while clock.now < warmUpEnd { try operation() }
    let start = clock.now
    var operations = 0
    var elapsed = Duration.zero
    repeat {
        for _ in 0..<64 { try operation() }
        operations += 64
        elapsed = clock.now - start
    } while elapsed < .milliseconds(Int64(seconds * 1000))
    let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    return Double(operations * bytesPerOperation) / elapsedSeconds
}

/// `openssl speed` throughput for one block size in bytes per second, and the block size it reports.
func opensslThroughput(size: Int) -> (bytesPerSecond: Double, reportedSize: Int)? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["openssl", "speed", "-evp", "aes-256-gcm", "-seconds", "2", "-bytes", String(size)]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = Pipe()
    do { try process.run() } catch { return nil }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return parseOpenSSLSpeed(String(decoding: data, as: UTF8.self))
}

/// Parses the table `openssl speed` prints: a `type … N bytes` header and an `AES-256-GCM  1234.56k` row
/// (thousands of bytes per second).
func parseOpenSSLSpeed(_ text: String) -> (bytesPerSecond: Double, reportedSize: Int)? {
    let lines = text.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
    guard let header = lines.first(where: { $0.first == "type" }),
        let row = lines.first(where: { $0.first?.lowercased() == "aes-256-gcm" }),
        let sizeIndex = header.lastIndex(of: "bytes"), sizeIndex > 0,
        let reportedSize = Int(header[sizeIndex - 1]),
        let last = row.last, last.hasSuffix("k"), let thousands = Double(last.dropLast())
    else { return nil }
    return (thousands * 1000, reportedSize)
}

func megabytes(_ bytesPerSecond: Double) -> String {
    String(format: "%9.1f", bytesPerSecond / 1e6)
}

let dek = DataEncryptionKey.generate()
let key = try EnvelopeKey(dek, id: 0x1234_5678, purpose: .storage)
let nonces = NonceFactory(node16: 1, localEpoch: 1)
let keystore = Keystore()
try keystore.install(dek, id: 0x1234_5678, purpose: .storage)
try keystore.activate(id: 0x1234_5678, for: .storage)
let keyring = SealingKeyring(keystore: keystore, node16: 1)
try keyring.setLocalEpoch(1, for: 0x1234_5678)
let context = EnvelopeContext.storage(userKey: Array("user:000000000042".utf8), commitTimestamp: 1_700_000_000_000)

print("AES-256-GCM envelope throughput, one core, MB/s (10^6 bytes); ratio = ours / openssl speed")
print("size      openssl  env.seal  ratio  env.open  ratio  ring.seal ratio  ring.open ratio")
for size in sizes {
    let plaintext = [UInt8](repeating: 0x5A, count: size)
    var envelope = [UInt8](repeating: 0, count: Envelope.sealedByteCount(plaintextByteCount: size))
    var opened = [UInt8](repeating: 0, count: size)
    let sealRate = try plaintext.withUnsafeBytes { input in
        try envelope.withUnsafeMutableBytes { output in
            try measure(bytesPerOperation: size, seconds: secondsPerMeasurement) {
                _ = try Envelope.seal(input, using: key, nonce: nonces.next(), authenticating: context, into: output)
            }
        }
    }
    let openRate = try envelope.withUnsafeBytes { input in
        try opened.withUnsafeMutableBytes { output in
            try measure(bytesPerOperation: size, seconds: secondsPerMeasurement) {
                _ = try Envelope.open(input, using: key, authenticating: context, into: output)
            }
        }
    }
    let ringSealRate = try plaintext.withUnsafeBytes { input in
        try envelope.withUnsafeMutableBytes { output in
            try measure(bytesPerOperation: size, seconds: secondsPerMeasurement) {
                _ = try keyring.seal(input, authenticating: context, into: output)
            }
        }
    }
    let ringOpenRate = try envelope.withUnsafeBytes { input in
        try opened.withUnsafeMutableBytes { output in
            try measure(bytesPerOperation: size, seconds: secondsPerMeasurement) {
                _ = try keyring.open(input, authenticating: context, into: output)
            }
        }
    }
    precondition(opened == plaintext, "the benchmark must open what it sealed")
    guard let openssl = opensslThroughput(size: size) else {
        print(String(format: "%-8d  (openssl speed unavailable) %@ %@", size, megabytes(sealRate), megabytes(openRate)))
        continue
    }
    let note = openssl.reportedSize == size ? "" : "  (openssl used \(openssl.reportedSize) B)"
    func ratio(_ rate: Double) -> String { String(format: "%5.2f", rate / openssl.bytesPerSecond) }
    print(
        String(format: "%-8d", size) + megabytes(openssl.bytesPerSecond) + " " + megabytes(sealRate) + "  "
            + ratio(sealRate) + megabytes(openRate) + "  " + ratio(openRate) + megabytes(ringSealRate) + "  "
            + ratio(ringSealRate) + megabytes(ringOpenRate) + "  " + ratio(ringOpenRate) + note)
}
