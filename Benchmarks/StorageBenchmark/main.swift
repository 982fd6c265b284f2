// Put and get throughput of the MVCC store, cleartext versus sealed with the storage envelope, at 100 B,
// 1 KiB and 16 KiB values, measured in the same run; then sealed with and without zstd compression for
// JSON-like and random values, with the bytes the database file takes. Usage: storage-bench [rows-per-size]
import Foundation
import KV
import Storage
import TestSupport

let rows = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 20_000 : 20_000
let rowsPerTransaction = 1_000
let rounds = 3
let sizes = [100, 1024, 16 * 1024]

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Writes `rows` versions in transactions of `rowsPerTransaction`, then reads them back in random order.
func measure(size: Int, sealed: Bool, directory: TemporaryDirectory, round: Int) throws -> (put: Double, get: Double) {
    let store = try MVCCStore(path: directory.file("bench-\(size)-\(sealed)-\(round).db"))
    defer { store.close() }
    if sealed {
        store.setSealer(makeStorageSealer(compression: .none))
        store.setSealsWrites(true)
    }
    var generator = SplitMix64(seed: UInt64(size))
    let value = (0..<size).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    let keys = (0..<rows).map { Array("key-\($0)".utf8) }
    let putTime = try seconds {
        var index = 0
        while index < rows {
            let end = min(index + rowsPerTransaction, rows)
            try store.write { (tx) throws(StorageError) in
                for row in index..<end {
                    try tx.put(StoredVersion(key: keys[row], commitTS: UInt64(row + 1), body: value))
                }
                try tx.setAppliedIndex(UInt64(end))
            }
            index = end
        }
    }
    let order = keys.shuffled(using: &generator)
    let getTime = try seconds {
        for key in order {
            guard try store.get(key, nowMillis: 0)?.body.count == size else { fatalError("benchmark read a wrong value") }
        }
    }
    return (Double(rows) / putTime, Double(rows) / getTime)
}

/// The same through the key-value state machine: SET commands in entries of 1 command, applied in batches of
/// `rowsPerTransaction` entries (what a node does per Raft ready), then GET through the reader.
func measureStateMachine(size: Int, sealed: Bool, directory: TemporaryDirectory, round: Int) throws
    -> (put: Double, get: Double)
{
    let store = try MVCCStore(path: directory.file("fsm-\(size)-\(sealed)-\(round).db"))
    defer { store.close() }
    if sealed {
        store.setSealer(makeStorageSealer(compression: .none))
        store.setSealsWrites(true)
    }
    let machine = KVStateMachine(store: store)
    var generator = SplitMix64(seed: UInt64(size))
    let value = (0..<size).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    let keys = (0..<rows).map { Array("key-\($0)".utf8) }
    let entries = keys.enumerated().map { index, key in
        CommittedEntry(index: UInt64(index + 1), term: 1, data: CommandEntry(
            proposedTS: UInt64(index + 1), nowMillis: 1,
            commands: [.set(key: key, value: value, condition: .always, expiry: .none, returnOld: false)]).encoded())
    }
    let putTime = try seconds {
        var index = 0
        while index < rows {
            let end = min(index + rowsPerTransaction, rows)
            guard machine.apply(Array(entries[index..<end])).halt == nil else { fatalError("benchmark apply halted") }
            index = end
        }
    }
    let reader = KVReader(store: store)
    let order = keys.shuffled(using: &generator)
    let getTime = try seconds {
        for key in order {
            guard try reader.lookup(key, nowMillis: 1) != nil else { fatalError("benchmark read a wrong value") }
        }
    }
    return (Double(rows) / putTime, Double(rows) / getTime)
}

let directory = TemporaryDirectory("storage-bench")
defer { directory.remove() }
typealias Measure = (Int, Bool, TemporaryDirectory, Int) throws -> (put: Double, get: Double)
let levels: [(String, Measure)] = [
    ("MVCC store (put/get of versions)", { try measure(size: $0, sealed: $1, directory: $2, round: $3) }),
    ("state machine (SET applied from log entries / GET)",
     { try measureStateMachine(size: $0, sealed: $1, directory: $2, round: $3) }),
]
for (level, run) in levels {
    print("\(level): \(rows) rows per size, \(rowsPerTransaction) per transaction, best of \(rounds) interleaved rounds")
    print("size      put clear/s  put sealed/s  ratio   get clear/s  get sealed/s  ratio")
    for size in sizes {
        var best: [Bool: (put: Double, get: Double)] = [false: (0, 0), true: (0, 0)]
        for round in 0..<rounds {
            for sealed in [false, true] {
                let result = try run(size, sealed, directory, round)
                best[sealed] = (max(best[sealed]!.put, result.put), max(best[sealed]!.get, result.get))
            }
        }
        let clear = best[false]!, sealed = best[true]!
        print(String(format: "%-8d %12.0f %13.0f %6.2f %13.0f %13.0f %6.2f", size, clear.put, sealed.put,
                     sealed.put / clear.put, clear.get, sealed.get, sealed.get / clear.get))
    }
}

/// A JSON-like document of `size` bytes: records of a few fields with varying numbers and names, about as
/// compressible as typical application values.
func jsonLike(size: Int, generator: inout SplitMix64) -> [UInt8] {
    var text = "["
    while text.utf8.count < size {
        let id = generator.next() % 100_000
        text += "{\"id\":\(id),\"name\":\"user-\(id)\",\"email\":\"user\(id)@example.com\",\"active\":\(id % 2 == 0),"
        text += "\"score\":\(generator.next() % 1000),\"tags\":[\"alpha\",\"beta\"]},"
    }
    return Array(text.utf8.prefix(size))
}

/// Sealed puts and gets of one value kind with the given compression, and the database file's bytes per row
/// after the store is closed (its WAL checkpointed into it).
func measureCompression(size: Int, compressible: Bool, compression: ValueCompression, directory: TemporaryDirectory,
                        round: Int) throws -> (put: Double, get: Double, bytesPerRow: Double) {
    let path = directory.file("zstd-\(size)-\(compressible)-\(compression)-\(round).db")
    let store = try MVCCStore(path: path)
    store.setSealer(makeStorageSealer(compression: compression))
    store.setSealsWrites(true)
    var generator = SplitMix64(seed: UInt64(size))
    let values = (0..<64).map { _ in
        compressible ? jsonLike(size: size, generator: &generator)
            : (0..<size).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    }
    let keys = (0..<rows).map { Array("key-\($0)".utf8) }
    let putTime = try seconds {
        var index = 0
        while index < rows {
            let end = min(index + rowsPerTransaction, rows)
            try store.write { (tx) throws(StorageError) in
                for row in index..<end {
                    try tx.put(StoredVersion(key: keys[row], commitTS: UInt64(row + 1), body: values[row % 64]))
                }
                try tx.setAppliedIndex(UInt64(end))
            }
            index = end
        }
    }
    let order = keys.shuffled(using: &generator)
    let getTime = try seconds {
        for key in order {
            guard try store.get(key, nowMillis: 0)?.body.count == size else { fatalError("benchmark read a wrong value") }
        }
    }
    store.close()
    let bytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    return (Double(rows) / putTime, Double(rows) / getTime, Double(bytes) / Double(rows))
}

print("storage envelope with zstd vs without (DESIGN §3.2): \(rows) rows per case, best of \(rounds) interleaved rounds")
print("value           put none/s  put zstd/s  ratio  get none/s  get zstd/s  ratio  disk B/row none  zstd  ratio")
for size in [1024, 16 * 1024] {
    for compressible in [true, false] {
        var best: [ValueCompression: (put: Double, get: Double, bytesPerRow: Double)] = [:]
        for round in 0..<rounds {
            for compression in [ValueCompression.none, .zstd] {
                let result = try measureCompression(size: size, compressible: compressible, compression: compression,
                                                    directory: directory, round: round)
                let old = best[compression] ?? (0, 0, .infinity)
                best[compression] = (max(old.put, result.put), max(old.get, result.get),
                                     min(old.bytesPerRow, result.bytesPerRow))
            }
        }
        let plain = best[.none]!, zstd = best[.zstd]!
        let label = "\(size / 1024) KiB \(compressible ? "JSON" : "random")"
        print(String(format: "%-15@ %11.0f %11.0f %6.2f %11.0f %11.0f %6.2f %16.0f %5.0f %6.2f", label as NSString,
                     plain.put, zstd.put, zstd.put / plain.put, plain.get, zstd.get, zstd.get / plain.get,
                     plain.bytesPerRow, zstd.bytesPerRow, zstd.bytesPerRow / plain.bytesPerRow))
    }
}
