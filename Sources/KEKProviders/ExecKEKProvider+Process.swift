#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Encryption

/// Running the command: spawn without a shell, feed stdin while draining stdout and stderr, enforce the deadline
/// and reap the child on every path.
extension ExecKEKProvider {
    /// How one run of the command ended.
    enum Termination: Equatable {
        /// The command exited with this status.
        case exited(Int32)
        /// The command was killed by this signal (not by us).
        case signaled(Int32)
        /// The deadline passed; the process group was killed and the command reaped.
        case timedOut
        /// Stdout passed ``ExecKEKProvider/maxOutputBytes``; the process group was killed and the command reaped.
        case outputTooLarge
        /// The command was reaped by someone else (the node ignores SIGCHLD), so its status is unknown.
        case statusLost
    }

    /// Why the command could not be started: the `errno` of the step that failed.
    struct StartFailure: Error {
        let code: Int32
    }

    /// What the command printed, in buffers allocated once at their limits (so appending never moves them and
    /// leaves copies behind) and zeroed when released: stdout may hold a DEK, stderr an echo of one.
    final class Capture {
        /// One byte more than allowed, so that an overflow is seen.
        private(set) var stdout = [UInt8](repeating: 0, count: ExecKEKProvider.maxOutputBytes + 1)
        private(set) var stdoutCount = 0
        private(set) var stderr = [UInt8](repeating: 0, count: ExecKEKProvider.maxKeptErrorOutputBytes)
        private(set) var stderrCount = 0
        /// Where stderr beyond the kept part is read to and dropped.
        private var overflow = [UInt8](repeating: 0, count: 4096)

        deinit {
            stdout.withUnsafeMutableBytes { SecretBytes.zero($0) }
            stderr.withUnsafeMutableBytes { SecretBytes.zero($0) }
            overflow.withUnsafeMutableBytes { SecretBytes.zero($0) }
        }

        /// Whether stdout passed its limit.
        var stdoutOverflowed: Bool { stdoutCount > ExecKEKProvider.maxOutputBytes }

        /// Gives read access to what the command printed on stdout.
        func withStdout<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
            stdout.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0..<stdoutCount])) }
        }

        /// Gives read access to the kept part of stderr.
        func withStderr<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
            stderr.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0..<stderrCount])) }
        }

        /// Reads once from stdout's pipe: `read(2)`'s result. Stops reading after one byte beyond the limit.
        fileprivate func readStdout(from descriptor: Int32) -> Int {
            let count = stdout.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress! + stdoutCount, buffer.count - stdoutCount)
            }
            if count > 0 { stdoutCount += count }
            return count
        }

        /// Reads once from stderr's pipe: `read(2)`'s result. Bytes beyond the kept part are dropped.
        fileprivate func readStderr(from descriptor: Int32) -> Int {
            if stderrCount == stderr.count {
                return overflow.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
            }
            let count = stderr.withUnsafeMutableBytes { buffer in
                read(descriptor, buffer.baseAddress! + stderrCount, buffer.count - stderrCount)
            }
            if count > 0 { stderrCount += count }
            return count
        }
    }

    /// Runs `path argument` with `input` on stdin, capturing its output, and waits until it exits and closes
    /// stdout and stderr or the deadline passes. The child is reaped on every path that started it.
    ///
    /// - Throws: ``StartFailure`` when the pipes cannot be made or the command cannot be spawned.
    static func run(
        path: String, argument: String, input: [UInt8], deadline: Duration, into capture: Capture
    ) throws(StartFailure) -> Termination {
        let end = ContinuousClock.now.advanced(by: deadline)
        var descriptors = try Descriptors.pipes()
        defer { descriptors.closeAll() }
        let child = try spawn(path: path, argument: argument, descriptors: descriptors)
        descriptors.close(.stdinRead)
        descriptors.close(.stdoutWrite)
        descriptors.close(.stderrWrite)
        descriptors.prepareParentEnds()
        let exchanged = withBrokenPipeSignalBlocked {
            exchange(input: input, descriptors: &descriptors, capture: capture, until: end)
        }
        switch exchanged {
        case .finished:
            switch waitForExit(child, until: end) {
            case .status(let status): return termination(status)
            case .lost: return .statusLost
            case .running:
                killAndReap(child)
                return .timedOut
            }
        case .timedOut:
            killAndReap(child)
            return .timedOut
        case .outputTooLarge:
            killAndReap(child)
            return .outputTooLarge
        }
    }

    /// The six ends of the command's three pipes; each is closed exactly once.
    struct Descriptors {
        enum End: Int, CaseIterable {
            case stdinRead, stdinWrite, stdoutRead, stdoutWrite, stderrRead, stderrWrite
        }

        private var descriptors: [Int32]

        private init(_ descriptors: [Int32]) { self.descriptors = descriptors }

        /// Three pipes, close-on-exec, none of them on 0, 1 or 2 (so that the child's `dup2` onto those always
        /// moves a descriptor and clears its close-on-exec flag).
        static func pipes() throws(StartFailure) -> Descriptors {
            var made = Descriptors([])
            for _ in 0..<3 {
                var pair: [Int32] = [-1, -1]
                guard makePipe(&pair) == 0 else {
                    let code = errno
                    made.closeAll()
                    throw StartFailure(code: code)
                }
                for index in 0..<2 where pair[index] < 3 {
                    let moved = fcntl(pair[index], F_DUPFD_CLOEXEC, 3)
                    _ = Glibc.close(pair[index])
                    pair[index] = moved
                }
                made.descriptors += pair
                guard !pair.contains(-1) else {
                    let code = errno
                    made.closeAll()
                    throw StartFailure(code: code)
                }
            }
            return made
        }

        subscript(end: End) -> Int32 { descriptors[end.rawValue] }

        func isOpen(_ end: End) -> Bool { descriptors[end.rawValue] >= 0 }

        mutating func close(_ end: End) {
            let descriptor = descriptors[end.rawValue]
            guard descriptor >= 0 else { return }
            _ = Glibc.close(descriptor)
            descriptors[end.rawValue] = -1
        }

        mutating func closeAll() {
            for index in descriptors.indices where descriptors[index] >= 0 {
                _ = Glibc.close(descriptors[index])
                descriptors[index] = -1
            }
        }

        /// Makes our ends non-blocking, so that one poll loop serves all three.
        func prepareParentEnds() {
            for end in [End.stdinWrite, .stdoutRead, .stderrRead] {
                let descriptor = self[end]
                _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            }
        }
    }

    /// `pipe2(O_CLOEXEC)`, looked up at run time because Swift's Glibc module does not declare it; `pipe` and
    /// `FD_CLOEXEC` where it is missing (a child spawned by another thread in between could inherit the pipe).
    private static func makePipe(_ pair: inout [Int32]) -> Int32 {
        if let pipe2 = LibC.shared.pipe2 { return pipe2(&pair, O_CLOEXEC) }
        guard pipe(&pair) == 0 else { return -1 }
        for descriptor in pair { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        return 0
    }

    /// The glibc functions Swift's Glibc module leaves out (they need `_GNU_SOURCE`).
    private struct LibC: @unchecked Sendable {
        typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

        /// `pipe2(2)`, glibc 2.9 and later.
        let pipe2: Pipe2?
        /// `posix_spawn_file_actions_addclosefrom_np(3)`, glibc 2.34 and later.
        let addCloseFrom: AddCloseFrom?

        static let shared = LibC()

        private init() {
            let program = dlopen(nil, RTLD_NOW)
            pipe2 = dlsym(program, "pipe2").map { unsafeBitCast($0, to: Pipe2.self) }
            addCloseFrom = dlsym(program, "posix_spawn_file_actions_addclosefrom_np").map {
                unsafeBitCast($0, to: AddCloseFrom.self)
            }
        }
    }

    /// Signals whose disposition the child gets back to the default: the node may ignore some (a lifecycle
    /// library ignores SIGTERM and SIGINT to watch them another way), and an ignored disposition survives `exec`.
    private static let signalsReset: [Int32] = [
        SIGPIPE, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD, SIGTSTP, SIGTTIN, SIGTTOU,
        SIGXFSZ,
    ]

    /// Spawns `path argument` as the leader of a new process group with the pipes on 0, 1 and 2, nothing else
    /// open, the node's environment, an empty signal mask and default signal dispositions.
    private static func spawn(path: String, argument: String, descriptors: Descriptors) throws(StartFailure) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        guard posix_spawn_file_actions_init(&actions) == 0 else { throw StartFailure(code: ENOMEM) }
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        guard posix_spawnattr_init(&attributes) == 0 else { throw StartFailure(code: ENOMEM) }
        defer { posix_spawnattr_destroy(&attributes) }

        let redirections: [(Descriptors.End, Int32)] = [(.stdinRead, 0), (.stdoutWrite, 1), (.stderrWrite, 2)]
        for (end, target) in redirections {
            let status = posix_spawn_file_actions_adddup2(&actions, descriptors[end], target)
            guard status == 0 else { throw StartFailure(code: status) }
        }
        if let addCloseFrom = LibC.shared.addCloseFrom {
            let status = addCloseFrom(&actions, 3)
            guard status == 0 else { throw StartFailure(code: status) }
        }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in signalsReset { sigaddset(&defaults, signal) }
        let flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        guard posix_spawnattr_setflags(&attributes, Int16(flags)) == 0,
              posix_spawnattr_setpgroup(&attributes, 0) == 0,
              posix_spawnattr_setsigmask(&attributes, &emptyMask) == 0,
              posix_spawnattr_setsigdefault(&attributes, &defaults) == 0
        else { throw StartFailure(code: EINVAL) }

        let arguments: [UnsafeMutablePointer<CChar>?] = [strdup(path), strdup(argument), nil]
        defer { for argument in arguments { free(argument) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, path, &actions, &attributes, arguments, environ)
        guard status == 0 else { throw StartFailure(code: status) }
        return child
    }

    /// How the pipe loop ended.
    private enum Exchanged {
        /// Stdin was written (or refused) and stdout and stderr reached end of file.
        case finished
        case timedOut
        case outputTooLarge
    }

    /// Writes `input` to the command's stdin while reading stdout and stderr, in one poll loop, so that neither
    /// side can block the other whatever the command writes first and however much.
    private static func exchange(
        input: [UInt8], descriptors: inout Descriptors, capture: Capture, until end: ContinuousClock.Instant
    ) -> Exchanged {
        var written = 0
        if input.isEmpty { descriptors.close(.stdinWrite) }
        let watched: [Descriptors.End] = [.stdinWrite, .stdoutRead, .stderrRead]
        while watched.contains(where: descriptors.isOpen) {
            guard let timeout = millisecondsLeft(until: end) else { return .timedOut }
            let ends = watched.filter(descriptors.isOpen)
            var polled = ends.map { end in
                pollfd(fd: descriptors[end], events: Int16(end == .stdinWrite ? POLLOUT : POLLIN), revents: 0)
            }
            let ready = poll(&polled, nfds_t(polled.count), timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                return .timedOut  // poll fails otherwise only when the kernel is out of memory
            }
            for (end, entry) in zip(ends, polled) where entry.revents != 0 {
                let descriptor = descriptors[end]
                let count: Int
                switch end {
                case .stdinWrite:
                    count = input.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, $0.count - written) }
                    if count > 0 { written += count }
                    if written == input.count { descriptors.close(end) }
                case .stdoutRead:
                    count = capture.readStdout(from: descriptor)
                    if capture.stdoutOverflowed { return .outputTooLarge }
                default:
                    count = capture.readStderr(from: descriptor)
                }
                // End of file, or an error other than "try again" (EPIPE: the command does not read its stdin).
                let failed = count < 0 && errno != EAGAIN && errno != EINTR
                if failed || (count == 0 && end != .stdinWrite) { descriptors.close(end) }
            }
        }
        return .finished
    }

    /// How waiting for the child ended.
    private enum Exit {
        case status(Int32)
        /// `waitpid` failed: someone else reaped the child.
        case lost
        /// The deadline passed with the child still running.
        case running
    }

    /// Waits for the child to exit, until `end`. Polls with short pauses: the command usually exits right after
    /// closing stdout.
    private static func waitForExit(_ child: pid_t, until end: ContinuousClock.Instant) -> Exit {
        var pauseMilliseconds: Int32 = 1
        while true {
            var status: Int32 = 0
            let reaped = waitpid(child, &status, WNOHANG)
            if reaped == child { return .status(status) }
            if reaped < 0 {
                if errno == EINTR { continue }
                return .lost
            }
            guard let left = millisecondsLeft(until: end) else { return .running }
            _ = poll(nil, 0, min(pauseMilliseconds, left))
            pauseMilliseconds = min(pauseMilliseconds * 2, 16)
        }
    }

    /// Kills the command's process group (the command and whatever it started that stayed in it) and the command
    /// itself (in case it left the group), then reaps it. The child is never reaped before this, so its pid, and
    /// the group's id, cannot have been reused.
    private static func killAndReap(_ child: pid_t) {
        _ = kill(-child, SIGKILL)
        _ = kill(child, SIGKILL)
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0, errno == EINTR {}
    }

    /// A `waitpid` status as a termination.
    private static func termination(_ status: Int32) -> Termination {
        let signal = status & 0x7f
        if signal == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(signal)
    }

    /// Milliseconds until `end`, rounded up; nil once it has passed.
    private static func millisecondsLeft(until end: ContinuousClock.Instant) -> Int32? {
        let left = ContinuousClock.now.duration(to: end)
        guard left > .zero else { return nil }
        let (seconds, attoseconds) = left.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }

    /// Runs `body` with SIGPIPE blocked in this thread, so that writing to a command that closed its stdin fails
    /// with EPIPE instead of killing the node; a SIGPIPE that `body` raised is taken off the pending set before
    /// the mask is restored.
    private static func withBrokenPipeSignalBlocked<Result>(_ body: () -> Result) -> Result {
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        var pendingBefore = sigset_t()
        sigpending(&pendingBefore)
        let result = body()
        var pendingAfter = sigset_t()
        sigpending(&pendingAfter)
        if sigismember(&pendingBefore, SIGPIPE) == 0, sigismember(&pendingAfter, SIGPIPE) == 1 {
            var noWait = timespec(tv_sec: 0, tv_nsec: 0)
            while sigtimedwait(&blocked, nil, &noWait) < 0, errno == EINTR {}
        }
        return result
    }
}
