import Encryption
import Foundation

// Seal and open throughput of the envelope on one core, next to `openssl speed -evp aes-256-gcm` for the same
// sizes in the same run. Two paths are measured: `Envelope` with a prepared key and nonce factory (the cipher
// itself), and `SealingKeyring` (key lookup, nonce, envelope: what the storage layer calls). OpenSSL's figure
// is bulk encryption on one context without per-message set-up, so it is an upper bound for both.
//
// The machine is shared, so each figure is the best of several short rounds (ours) or of two runs (OpenSSL),
// interleaved, which keeps a burst of load on the machine from skewing one side of a ratio.

let sizes = [64, 1024, 16 * 1024]
let secondsPerRound = 0.25
let rounds = 5
let opensslRuns = 2

/// CPU time this thread has used, in seconds.
func threadCPUSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}

/// Runs `operation` in batches until it used `seconds` of this thread's CPU time; returns bytes per CPU second.
///
/// `openssl speed` divides by user CPU time too (unless given `-elapsed`), so both sides of a ratio are immune
/// to other processes taking the core away.
func measure(bytesPerOperation: Int, seconds: Double, _ operation: () throws -> Void) rethrows -> Double {
    let warmUpEnd = threadCPUSeconds() + 0.02
    while threadCPUSeconds() < warmUpEnd { try operation() }
    let start = threadCPUSeconds()
    var operations = 0
    var elapsed = 0.0
    repeat {
        for _ in 0..<64 { try operation() }
        operations += 64
        elapsed = threadCPUSeconds() - start
    } while elapsed < seconds
    return Double(operations * bytesPerOperation) / elapsed
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

print("AES-256-GCM envelope throughput, one core, MB per CPU second (10^6 bytes); ratio = ours / openssl speed")
print("size        openssl   env.seal ratio   env.open ratio  ring.seal ratio  ring.open ratio")
/// The best of `rounds` measurements of each operation, interleaved round by round.
func bestRates(size: Int, _ operations: [() throws -> Void]) throws -> [Double] {
    var best = [Double](repeating: 0, count: operations.count)
    for _ in 0..<rounds {
        for (index, operation) in operations.enumerated() {
            best[index] = max(best[index], try measure(bytesPerOperation: size, seconds: secondsPerRound, operation))
        }
    }
    return best
}

for size in sizes where ProcessInfo.processInfo.environment["BENCH_CONCURRENT_ONLY"] == nil {
    let plaintext = [UInt8](repeating: 0x5A, count: size)
    let sealedCount = Envelope.sealedByteCount(plaintextByteCount: size)
    let sealOutput = UnsafeMutableRawBufferPointer.allocate(byteCount: sealedCount, alignment: 16)
    let openOutput = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
    defer {
        sealOutput.deallocate()
        openOutput.deallocate()
    }
    let envelope = try keyring.seal(plaintext, authenticating: context)
    var openssl = opensslThroughput(size: size)
    let rates = try plaintext.withUnsafeBytes { input in
        try envelope.withUnsafeBytes { sealed in
            try bestRates(
                size: size,
                [
                    {
                        _ = try Envelope.seal(
                            input, using: key, nonce: nonces.next(), authenticating: context, into: sealOutput)
                    },
                    { _ = try Envelope.open(sealed, using: key, authenticating: context, into: openOutput) },
                    { _ = try keyring.seal(input, authenticating: context, into: sealOutput) },
                    { _ = try keyring.open(sealed, authenticating: context, into: openOutput) },
                ])
        }
    }
    precondition(Array(openOutput) == plaintext, "the benchmark must open what it sealed")
    for _ in 1..<opensslRuns {
        if let again = opensslThroughput(size: size), again.bytesPerSecond > (openssl?.bytesPerSecond ?? 0) {
            openssl = again
        }
    }
    guard let openssl else {
        print(String(format: "%-8d", size) + "  (openssl speed unavailable)" + rates.map(megabytes).joined())
        continue
    }
    let note = openssl.reportedSize == size ? "" : "  (openssl used \(openssl.reportedSize) B)"
    var line = String(format: "%-8d", size) + megabytes(openssl.bytesPerSecond)
    for rate in rates { line += " " + megabytes(rate) + String(format: " %5.2f", rate / openssl.bytesPerSecond) }
    print(line + note)
}

/// Seals and opens 1 KiB values through one keyring from `threads` threads for `seconds` of wall time.
///
/// Returns bytes per CPU second of the whole process (lock contention on the shared keyring, nonce counter and
/// context pool shows up as more CPU per byte) and bytes per wall-clock second.
func concurrentRates(threads: Int, seconds: Double) -> (perCPUSecond: Double, perWallSecond: Double) {
    let size = 1024
    let done = DispatchSemaphore(value: 0)
    let operations = OperationCounter()
    let deadline = Date().addingTimeInterval(seconds)
    var cpuStart = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpuStart)
    let wallStart = Date()
    for thread in 0..<threads {
        Thread {
            let plaintext = [UInt8](repeating: UInt8(thread), count: size)
            let context = EnvelopeContext.storage(userKey: [UInt8(thread)], commitTimestamp: 1)
            var count = 0
            while Date() < deadline {
                for _ in 0..<64 {
                    let envelope = try! keyring.seal(plaintext, authenticating: context)
                    precondition(try! keyring.open(envelope, authenticating: context) == plaintext, "round trip")
                }
                count += 64
            }
            operations.add(count)
            done.signal()
        }.start()
    }
    for _ in 0..<threads { done.wait() }
    var cpuEnd = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpuEnd)
    let cpuSeconds = Double(cpuEnd.tv_sec - cpuStart.tv_sec) + Double(cpuEnd.tv_nsec - cpuStart.tv_nsec) * 1e-9
    let wallSeconds = Date().timeIntervalSince(wallStart)
    let bytes = Double(operations.total * size * 2)
    return (bytes / cpuSeconds, bytes / wallSeconds)
}

/// A thread-safe sum of operations.
final class OperationCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var sum = 0

    func add(_ count: Int) { lock.withLock { sum += count } }
    var total: Int { lock.withLock { sum } }
}

print("")
let cores = ProcessInfo.processInfo.activeProcessorCount
print("keyring seal+open of 1 KiB values from several threads (this machine has \(cores) cores)")
print("threads  MB per CPU second  MB per wall second")
for threads in [1, 2, 4, 8] {
    let rates = concurrentRates(threads: threads, seconds: 1)
    print(String(format: "%-7d  %17.1f  %18.1f", threads, rates.perCPUSecond / 1e6, rates.perWallSecond / 1e6))
}
