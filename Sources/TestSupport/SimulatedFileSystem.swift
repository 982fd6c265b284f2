import DurableIO
import Synchronization

/// An in-memory ``FileSystem`` that models what survives a crash, and injects faults.
///
/// It keeps two views: what the running process sees, and what is durable. File bytes become durable on
/// ``WritableFile/sync()``; creates, renames and removes become durable on
/// ``FileSystem/syncDirectory(at:)`` of the parent directory. ``crash()`` throws the volatile view away,
/// optionally tearing each file's unsynced tail at a random length (seeded, so runs replay exactly).
///
/// Faults are chosen by ``faultPolicy``, asked once per mutating operation with a running operation
/// number, so a test can enumerate "fail at operation *n*" or "crash at operation *n*" for every *n*.
/// Directories themselves are modelled as always durable once created.
public final class SimulatedFileSystem: FileSystem, @unchecked Sendable {
    /// What to do with one mutating operation.
    public enum Fault: Sendable, Hashable {
        /// Throw ``FileSystemError/Kind/injectedFault`` and leave everything unchanged.
        case fail
        /// Simulate power loss just before the operation: it has no effect and every later operation
        /// throws ``FileSystemError/Kind/crashed`` until ``crash()`` is called.
        case crash
        /// For writes only: write a prefix of the bytes, then crash as ``crash``.
        case tornWriteThenCrash
    }

    /// A mutating operation, as shown to the fault policy.
    public struct Operation: Sendable, Hashable, CustomStringConvertible {
        public enum Kind: String, Sendable, Hashable {
            case open, write, sync, close, rename, remove, syncDirectory, truncate, createDirectory
        }
        /// The 0-based number of this mutating operation since the file system was made.
        public var number: Int
        public var kind: Kind
        public var path: String
        public var description: String { "#\(number) \(kind.rawValue) \(path)" }
    }

    struct Inode {
        var data: [UInt8] = []
        var durableData: [UInt8] = []
    }

    struct State {
        var inodes: [Int: Inode] = [:]
        var names: [String: Int] = [:]
        var durableNames: [String: Int] = [:]
        var directories: Set<String> = ["/", "."]
        var permissions: [Int: UInt16] = [:]
        var nextInode = 1
        var operationCount = 0
        var crashed = false
        var random: SplitMix64
        var log: [Operation] = []
    }

    private let state: Mutex<State>
    private let policy: Mutex<@Sendable (Operation) -> Fault?>

    /// Creates an empty file system.
    ///
    /// - Parameter seed: drives the length of torn writes.
    public init(seed: UInt64 = 0) {
        state = Mutex(State(random: SplitMix64(seed: seed)))
        policy = Mutex({ _ in nil })
    }

    /// Decides, per mutating operation, whether to inject a fault. `nil` means "do it normally".
    public var faultPolicy: @Sendable (Operation) -> Fault? {
        get { policy.withLock { $0 } }
        set { policy.withLock { $0 = newValue } }
    }

    /// The number of mutating operations performed or attempted so far.
    public var operationCount: Int { state.withLock { $0.operationCount } }

    /// Every mutating operation attempted so far, in order.
    public var operationLog: [Operation] { state.withLock { $0.log } }

    /// Whether a simulated crash happened and ``crash()`` has not been called since.
    public var isCrashed: Bool { state.withLock { $0.crashed } }

    /// Simulates power loss and restart: only durable names and bytes remain.
    ///
    /// - Parameter tearUnsyncedWrites: keep a random prefix of each file's unsynced appended bytes, as a
    ///   disk that wrote some sectors before losing power would.
    public func crash(tearUnsyncedWrites: Bool = false) {
        state.withLock { state in
            state.names = state.durableNames
            for (number, var inode) in state.inodes {
                var kept = inode.durableData
                if tearUnsyncedWrites, inode.data.count > kept.count, inode.data.starts(with: kept) {
                    let extra = inode.data.count - kept.count
                    let keep = Int(state.random.next() % UInt64(extra + 1))
                    kept = Array(inode.data[0..<(inode.durableData.count + keep)])
                }
                inode.data = kept
                inode.durableData = kept
                state.inodes[number] = inode
            }
            let live = Set(state.names.values)
            state.inodes = state.inodes.filter { live.contains($0.key) }
            state.crashed = false
        }
    }

    /// Sets the permission bits reported for a file (files are created with 0o600).
    public func setPermissions(_ bits: UInt16, at path: String) throws(FileSystemError) {
        try state.withLock { (state) throws(FileSystemError) in
            guard let inode = state.names[path] else { throw FileSystemError(.notFound, operation: "chmod", path: path) }
            state.permissions[inode] = bits
        }
    }

    /// The current (volatile) content of a file, for assertions; `nil` when it does not exist.
    public func contentsIfPresent(at path: String) -> [UInt8]? {
        state.withLock { state in state.names[path].flatMap { state.inodes[$0]?.data } }
    }

    // MARK: - Fault plumbing

    /// Counts the operation, consults the policy and throws for `.fail` and `.crash`.
    ///
    /// Returns `.tornWriteThenCrash` to the caller (writes handle it); `nil` for a normal operation.
    fileprivate func admit(_ kind: Operation.Kind, _ path: String) throws(FileSystemError) -> Fault? {
        let operation: Operation = try state.withLock { (state) throws(FileSystemError) in
            if state.crashed { throw FileSystemError(.crashed, operation: kind.rawValue, path: path) }
            let operation = Operation(number: state.operationCount, kind: kind, path: path)
            state.operationCount += 1
            state.log.append(operation)
            return operation
        }
        let fault = policy.withLock { $0 }(operation)
        switch fault {
        case nil: return nil
        case .fail: throw FileSystemError(.injectedFault, operation: kind.rawValue, path: path)
        case .crash:
            state.withLock { $0.crashed = true }
            throw FileSystemError(.crashed, operation: kind.rawValue, path: path)
        case .tornWriteThenCrash:
            if kind == .write { return .tornWriteThenCrash }
            state.withLock { $0.crashed = true }
            throw FileSystemError(.crashed, operation: kind.rawValue, path: path)
        }
    }

    private func checkAlive(_ operation: String, _ path: String) throws(FileSystemError) {
        if state.withLock({ $0.crashed }) { throw FileSystemError(.crashed, operation: operation, path: path) }
    }

    // MARK: - FileSystem

    public func openFile(at path: String, mode: OpenMode) throws(FileSystemError) -> any WritableFile {
        _ = try admit(.open, path)
        let inode = try state.withLock { (state) throws(FileSystemError) -> Int in
            let parent = PosixFileSystem.parentDirectory(of: path)
            guard state.directories.contains(parent) else {
                throw FileSystemError(.notFound, operation: "open", path: path)
            }
            if let existing = state.names[path] {
                if mode == .truncate { state.inodes[existing]!.data = [] }
                return existing
            }
            let number = state.nextInode
            state.nextInode += 1
            state.inodes[number] = Inode()
            state.names[path] = number
            return number
        }
        return SimulatedFile(fileSystem: self, inode: inode, path: path)
    }

    public func readFile(at path: String) throws(FileSystemError) -> [UInt8] {
        try checkAlive("read", path)
        return try state.withLock { (state) throws(FileSystemError) in
            guard let inode = state.names[path], let node = state.inodes[inode] else {
                throw FileSystemError(.notFound, operation: "read", path: path)
            }
            return node.data
        }
    }

    public func fileExists(at path: String) -> Bool {
        state.withLock { $0.names[path] != nil || $0.directories.contains(path) }
    }

    public func listDirectory(at path: String) throws(FileSystemError) -> [String] {
        try checkAlive("list", path)
        return try state.withLock { (state) throws(FileSystemError) in
            guard state.directories.contains(path) else {
                throw FileSystemError(.notFound, operation: "list", path: path)
            }
            var names = Set<String>()
            for name in state.names.keys where PosixFileSystem.parentDirectory(of: name) == path {
                names.insert(String(name.split(separator: "/").last ?? ""))
            }
            for directory in state.directories where directory != path
                && PosixFileSystem.parentDirectory(of: directory) == path
            {
                names.insert(String(directory.split(separator: "/").last ?? ""))
            }
            return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
    }

    public func createDirectory(at path: String) throws(FileSystemError) {
        _ = try admit(.createDirectory, path)
        state.withLock { state in
            var current = path
            while !current.isEmpty && !state.directories.contains(current) {
                state.directories.insert(current)
                let parent = PosixFileSystem.parentDirectory(of: current)
                if parent == current { break }
                current = parent
            }
        }
    }

    public func rename(from source: String, to destination: String) throws(FileSystemError) {
        _ = try admit(.rename, source)
        try state.withLock { (state) throws(FileSystemError) in
            guard let inode = state.names[source] else {
                throw FileSystemError(.notFound, operation: "rename", path: source)
            }
            state.names[source] = nil
            state.names[destination] = inode
        }
    }

    public func removeFile(at path: String) throws(FileSystemError) {
        _ = try admit(.remove, path)
        try state.withLock { (state) throws(FileSystemError) in
            guard state.names.removeValue(forKey: path) != nil else {
                throw FileSystemError(.notFound, operation: "remove", path: path)
            }
        }
    }

    public func syncDirectory(at path: String) throws(FileSystemError) {
        _ = try admit(.syncDirectory, path)
        try state.withLock { (state) throws(FileSystemError) in
            guard state.directories.contains(path) else {
                throw FileSystemError(.notFound, operation: "fsync directory", path: path)
            }
            for name in state.durableNames.keys where PosixFileSystem.parentDirectory(of: name) == path {
                state.durableNames[name] = nil
            }
            for (name, inode) in state.names where PosixFileSystem.parentDirectory(of: name) == path {
                state.durableNames[name] = inode
            }
        }
    }

    public func truncateFile(at path: String, toSize size: Int) throws(FileSystemError) {
        _ = try admit(.truncate, path)
        try state.withLock { (state) throws(FileSystemError) in
            guard let inode = state.names[path] else {
                throw FileSystemError(.notFound, operation: "truncate", path: path)
            }
            var data = state.inodes[inode]!.data
            if size <= data.count { data.removeLast(data.count - size) } else {
                data.append(contentsOf: repeatElement(0, count: size - data.count))
            }
            state.inodes[inode]!.data = data
        }
    }

    public func fileSize(at path: String) throws(FileSystemError) -> Int {
        try readFile(at: path).count
    }

    public func permissions(at path: String) throws(FileSystemError) -> UInt16 {
        try state.withLock { (state) throws(FileSystemError) in
            guard let inode = state.names[path] else {
                throw FileSystemError(.notFound, operation: "stat", path: path)
            }
            return state.permissions[inode] ?? 0o600
        }
    }

    // MARK: - File operations used by SimulatedFile

    fileprivate func append(_ bytes: UnsafeRawBufferPointer, inode: Int, path: String) throws(FileSystemError) {
        let fault = try admit(.write, path)
        state.withLock { state in
            var count = bytes.count
            if fault == .tornWriteThenCrash {
                count = bytes.isEmpty ? 0 : Int(state.random.next() % UInt64(bytes.count))
                state.crashed = true
            }
            state.inodes[inode]?.data.append(contentsOf: bytes.prefix(count))
        }
        if fault == .tornWriteThenCrash { throw FileSystemError(.crashed, operation: "write", path: path) }
    }

    fileprivate func sync(inode: Int, path: String) throws(FileSystemError) {
        _ = try admit(.sync, path)
        state.withLock { state in
            if let data = state.inodes[inode]?.data { state.inodes[inode]!.durableData = data }
        }
    }

    fileprivate func admitClose(path: String) throws(FileSystemError) {
        _ = try admit(.close, path)
    }
}

/// A handle on a ``SimulatedFileSystem`` file; writes go to the inode even after a rename.
final class SimulatedFile: WritableFile {
    private let fileSystem: SimulatedFileSystem
    private let inode: Int
    private let path: String
    private var isClosed = false

    init(fileSystem: SimulatedFileSystem, inode: Int, path: String) {
        self.fileSystem = fileSystem
        self.inode = inode
        self.path = path
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(FileSystemError) {
        guard !isClosed else { throw FileSystemError(.closed, operation: "write", path: path) }
        try fileSystem.append(bytes, inode: inode, path: path)
    }

    func sync() throws(FileSystemError) {
        guard !isClosed else { throw FileSystemError(.closed, operation: "fsync", path: path) }
        try fileSystem.sync(inode: inode, path: path)
    }

    func close() throws(FileSystemError) {
        guard !isClosed else { throw FileSystemError(.closed, operation: "close", path: path) }
        isClosed = true
        try fileSystem.admitClose(path: path)
    }
}
