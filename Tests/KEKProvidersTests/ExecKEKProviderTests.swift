import Encryption
import Foundation
import KEKProviders
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The `exec:` KEK against bash scripts written into a temporary directory (bash, coreutils and openssl).
///
/// Serialized: the descriptor-leak test counts this process's pipes, which the other tests here would change.
@Suite(.serialized)
struct ExecKEKProviderTests {
    static let withheld = "; stderr not shown (it repeats bytes of the key, the wrap or stdout)"

    /// An AES-256-CBC "KEK" through openssl, adapted to the base64 protocol with `base64 -d` / `base64 -w0`.
    static let opensslScript = """
        #!/bin/bash
        set -euo pipefail
        key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
        iv=f0e0d0c0b0a090807060504030201000
        case "$1" in
        wrap) base64 -d | openssl enc -aes-256-cbc -K "$key" -iv "$iv" | base64 -w0 ;;
        unwrap) base64 -d | openssl enc -d -aes-256-cbc -K "$key" -iv "$iv" | base64 ;;
        *) echo "unknown operation $1" >&2; exit 64 ;;
        esac
        """

    @Test func wrapsAndUnwrapsThroughTheCommand() throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        let provider = try scripts.provider(Self.opensslScript)
        let key = DataEncryptionKey.generate()
        let wrapped = try provider.wrap(key)
        #expect(wrapped.count == 48)  // 32 bytes and a block of CBC padding
        #expect(wrapped != bytes(of: key))
        #expect(try provider.unwrap(wrapped).hasSameBytes(as: key))
        #expect(provider.checkValue == "exec:" + provider.path)
    }

    @Test func errorsQuoteTheFirstLineOfStderrAndTheArguments() throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        let provider = try scripts.provider(
            #"printf 'denied for %s (%d arguments)\nsecond line\n' "$1" "$#" >&2; exit 3"#)
        let error = try expectError { try provider.wrap(.generate()) }
        #expect(error == .rejected(
            provider: "exec:" + provider.path,
            reason: "wrap exited with status 3; stderr: denied for wrap (1 arguments)"))
    }

    @Test func quotedStderrIsCleanedAndLimited() throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        let colored = try scripts.provider(#"printf '  \e[31mred\e[0m\tand\rplain  \n' >&2; exit 3"#)
        let coloredError = try expectError { try colored.wrap(.generate()) }
        #expect(coloredError.description.hasSuffix("; stderr: [31mred[0mandplain"))

        let long = try scripts.provider(#"printf 'y%.0s' {1..300} >&2; exit 3"#)
        let longError = try expectError { try long.wrap(.generate()) }
        #expect(longError.description.hasSuffix("; stderr: " + String(repeating: "y", count: 200)))

        let binary = try scripts.provider(#"printf 'bad \xff\xfe byte\n' >&2; exit 3"#)
        let binaryError = try expectError { try binary.wrap(.generate()) }
        #expect(binaryError.description.hasSuffix("; stderr not shown (not UTF-8 text)"))
    }

    @Test func theCommandGetsTheNodesEnvironment() throws {
        let home = try #require(ProcessInfo.processInfo.environment["HOME"])
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        let provider = try scripts.provider(#"echo "home is $HOME" >&2; exit 3"#)
        let error = try expectError { try provider.wrap(.generate()) }
        #expect(error.description.hasSuffix("; stderr: home is \(home)"))
    }

    @Test func theCommandHasOnlyStandardDescriptorsOpen() throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        // A descriptor this process opens without close-on-exec must not reach the command either.
        let inherited = open("/dev/null", O_RDONLY)
        #expect(inherited >= 0)
        defer { close(inherited) }
        // `ls` lists the shell's descriptors into a file (bash itself holds the script open on 255).
        let provider = try scripts.provider(#"ls /proc/$$/fd > "$0.fds"; echo "open:" $(cat "$0.fds") >&2; exit 3"#)
        let error = try expectError { try provider.wrap(.generate()) }
        #expect(error.description.hasSuffix("; stderr: open: 0 1 2 255"))
    }

    @Test func exitStatus75IsTransient() throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        let provider = try scripts.provider(#"echo "vault is sealed" >&2; exit 75"#)
        for error in [try expectError { try provider.wrap(.generate()) },
                      try expectError { try provider.unwrap([1, 2, 3]) }] {
            guard case .unavailable(_, let reason) = error else {
                Issue.record("expected unavailable, got \(error)")
                continue
            }
            #expect(error.isTransient)
            #expect(reason.hasSuffix("with status 75 (EX_TEMPFAIL); stderr: vault is sealed"))
        }
    }

    @Test func exitStatus65IsAMismatchOnlyForUnwrap() throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        let provider = try scripts.provider(#"echo "not my key" >&2; exit 65"#)
        let name = "exec:" + provider.path
        #expect(try expectError { try provider.unwrap([1, 2, 3]) } == .mismatch(provider: name))
        #expect(try expectError { try provider.wrap(.generate()) }
            == .rejected(provider: name, reason: "wrap exited with status 65; stderr: not my key"))
    }

    @Test func wrapsNoWrapCouldHaveAreMismatchesWithoutRunningTheCommand() throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        let marker = scripts.file("ran")
        let provider = try scripts.provider("touch \(marker); exit 1")
        let name = "exec:" + provider.path
        #expect(try expectError { try provider.unwrap([]) } == .mismatch(provider: name))
        let tooLong = [UInt8](repeating: 7, count: ExecKEKProvider.maxWrappedBytes + 1)
        #expect(try expectError { try provider.unwrap(tooLong) } == .mismatch(provider: name))
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    static let wrongSize = "bytes (after base64 decoding); it must print the 32-byte DEK"

    @Test(arguments: [
        ("head -c 31 /dev/zero | base64", "unwrap printed 31 \(wrongSize)"),
        // Hex is valid base64 text, and decodes to the wrong size.
        ("head -c 32 /dev/zero | od -An -tx1 -v | tr -d ' \\n'", "unwrap printed 48 \(wrongSize)"),
        ("echo 'plain text'", "unwrap exited 0 but printed something not base64"),
        ("echo 'key expired' >&2", "unwrap printed 0 \(wrongSize); stderr: key expired"),
    ])
    func unwrapOutputThatIsNotA32ByteKeyIsRejected(script: String, reason: String) throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        let provider = try scripts.provider("cat > /dev/null; " + script)
        let error = try expectError { try provider.unwrap([1, 2, 3]) }
        #expect(error == .rejected(provider: "exec:" + provider.path, reason: reason))
    }

    @Test func wrapOutputMustBeNonEmptyBase64() throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        let empty = try scripts.provider("echo 'token expired' >&2")
        #expect(try expectError { try empty.wrap(.generate()) } == .rejected(
            provider: "exec:" + empty.path,
            reason: "wrap exited 0 but printed nothing on stdout; stderr: token expired"))
        let notBase64 = try scripts.provider("echo 'vault:v1:abc'")
        #expect(try expectError { try notBase64.wrap(.generate()) } == .rejected(
            provider: "exec:" + notBase64.path, reason: "wrap exited 0 but printed something not base64"))
        let wrapped = try scripts.provider("cat > /dev/null; printf 'AAEC\\nAw==\\n'")  // lines and a newline
        #expect(try wrapped.wrap(.generate()) == [0, 1, 2, 3])
    }

    @Test func deathByASignalIsRejected() throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        let provider = try scripts.provider("kill -KILL $$")
        #expect(try expectError { try provider.wrap(.generate()) }
            == .rejected(provider: "exec:" + provider.path, reason: "wrap was killed by signal 9"))
    }

    @Test(arguments: [
        // Hangs with a background process holding the pipes.
        "echo $$ > \"$(dirname \"$0\")/command.pid\"; sleep 60 & echo $! > \"$(dirname \"$0\")/background.pid\"; wait",
        // Closes stdout and stderr, then hangs.
        "echo $$ > \"$(dirname \"$0\")/command.pid\"; exec >&- 2>&-; sleep 60",
    ])
    func aCommandPastTheDeadlineIsKilledAndReaped(script: String) throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        let provider = try scripts.provider(script, deadline: .seconds(1))
        let started = ContinuousClock.now
        let error = try expectError { try provider.wrap(.generate()) }
        let elapsed = started.duration(to: .now)
        #expect(error == .unavailable(
            provider: "exec:" + provider.path, reason: "wrap did not finish within 1 s and was killed"))
        #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(10))
        // Our child is reaped: no zombie is left, so the pid is gone.
        let command = try #require(Int32(try String(contentsOfFile: scripts.file("command.pid"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(command, 0) == -1 && errno == ESRCH)
        // What it left in its process group is killed too (init reaps it).
        if let text = try? String(contentsOfFile: scripts.file("background.pid"), encoding: .utf8),
           let background = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            #expect(waitUntilDead(background))
        }
    }

    @Test func largeStderrWhileStdinIsWrittenDoesNotDeadlock() throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        // 1 MiB of stderr before reading stdin, with a wrap that fills more than a pipe buffer.
        let provider = try scripts.provider(
            "head -c 1048576 /dev/zero | tr '\\0' e >&2; cat > /dev/null; head -c 32 /dev/zero | base64")
        let key = try provider.unwrap([UInt8](repeating: 9, count: ExecKEKProvider.maxWrappedBytes))
        #expect(bytes(of: key) == [UInt8](repeating: 0, count: 32))
    }

    @Test func aCommandThatDoesNotReadItsInputDoesNotKillTheNode() throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        // The largest wrap is 65537 bytes of stdin, one more than a pipe holds: the last write meets a closed pipe
        // (EPIPE), and the SIGPIPE it raises would end this process if the provider let it through.
        let provider = try scripts.provider("echo refused >&2; exit 3")
        let largest = [UInt8](repeating: 9, count: ExecKEKProvider.maxWrappedBytes)
        let error = try expectError { try provider.unwrap(largest) }
        #expect(error == .rejected(
            provider: "exec:" + provider.path, reason: "unwrap exited with status 3; stderr: refused"))
    }

    @Test func stdoutBeyondTheLimitIsRejected() throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        let provider = try scripts.provider("head -c 1048576 /dev/zero | base64 -w0")
        #expect(try expectError { try provider.wrap(.generate()) } == .rejected(
            provider: "exec:" + provider.path, reason: "wrap printed more than 65536 bytes on stdout"))
    }

    @Test func callsLeakNoDescriptors() throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        let working = try scripts.provider(Self.opensslScript, name: "openssl")
        let failing = try scripts.provider("cat > /dev/null; echo no >&2; exit 3", name: "failing")
        let chatty = try scripts.provider("head -c 1048576 /dev/zero | base64 -w0", name: "chatty")
        let hanging = try scripts.provider("exec sleep 60", name: "hanging", deadline: .milliseconds(100))
        _ = try working.wrap(.generate())  // anything lazily opened once is open before counting
        let before = try pipeCount()
        for round in 0..<50 {
            let key = DataEncryptionKey.generate()
            switch round % 5 {
            case 0: #expect(try working.unwrap(try working.wrap(key)).hasSameBytes(as: key))
            case 1: _ = try? failing.wrap(key)
            case 2: _ = try? failing.unwrap([1, 2, 3])
            case 3: _ = try? chatty.wrap(key)
            default: _ = try? hanging.wrap(key)
            }
        }
        // Other suites may hold pipes for a moment; a leak would keep 50 or more.
        var after = try pipeCount()
        for _ in 0..<20 where after > before {
            usleep(50_000)
            after = try pipeCount()
        }
        #expect(after <= before)
    }

    @Test(arguments: [
        ("echo stdin: $(cat) >&2; exit 3", "base64 of the DEK"),
        ("base64 -d >&2; exit 3", "the raw DEK"),
        ("base64 -d | od -An -tx1 -v | tr -d '\\n' >&2; exit 3", "spaced lower-case hex"),
        ("base64 -d | od -An -tx1 -v | tr -d ' \\n' | tr a-f A-F >&2; exit 3", "upper-case hex"),
        ("base64 -d | base64 -w0 | tr '+/' '-_' | tr -d = >&2; exit 3", "URL-safe base64 without padding"),
        ("dek=$(base64 -d | od -An -tx1 -v | tr -d ' \\n'); set -x; : \"$dek\"; exit 3", "a set -x trace"),
        ("echo \"error: key 0x$(base64 -d | od -An -tx1 -v | tr -d ' \\n' | cut -c1-20)... rejected\" >&2; exit 3",
         "a prefix of the hex"),
    ])
    func stderrRepeatingTheDEKIsNotQuoted(script: String, form: String) throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        let provider = try scripts.provider(script)
        // Printable bytes, so that the raw form is valid UTF-8 and only the leak check can keep it out.
        let key = try DataEncryptionKey(bytes: Array("Kq7#vP2!mZ9@xR4$wT6^yU8&iO1*eA3(".utf8))
        let error = try expectError { try provider.wrap(key) }
        #expect(error.description.hasSuffix(Self.withheld), "\(form)")
        expectNoSpelling(of: bytes(of: key), in: error.description)
    }

    @Test func stderrRepeatingTheWrapOrTheOutputIsNotQuoted() throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        let wrapped = (0..<48).map { UInt8($0 * 5 + 1) }
        let echoing = try scripts.provider("echo \"cannot decrypt $(cat)\" >&2; exit 3")
        let echoError = try expectError { try echoing.unwrap(wrapped) }
        #expect(echoError.description.hasSuffix(Self.withheld))
        expectNoSpelling(of: wrapped, in: echoError.description)

        let dek = (0..<32).map { UInt8(255 - $0 * 3) }
        let encoded = Data(dek).base64EncodedString()
        let printing = try scripts.provider("cat > /dev/null; echo \(encoded); echo \"printed \(encoded)\" >&2; exit 1")
        let printError = try expectError { try printing.unwrap(wrapped) }
        #expect(printError.description.hasSuffix(Self.withheld))
        expectNoSpelling(of: dek, in: printError.description)
    }

    @Test(arguments: [0o770, 0o720, 0o702, 0o707, 0o777, 0o600, 0o700])
    func commandsOthersCanChangeOrNobodyCanRunAreRefused(mode: Int) throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        let path = scripts.write("exit 0", name: "command", mode: mode_t(mode))
        if mode == 0o700 {
            _ = try ExecKEKProvider(uri: KEKURI("exec:" + path))
            return
        }
        let reason = try expectMisconfigured("exec:" + path)
        #expect(reason.contains(mode == 0o600 ? "is not executable" : "is writable by group or others"))
    }

    @Test func aCommandInADirectoryOthersCanWriteIsRefusedUnlessSticky() throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        let path = scripts.write("exit 0", name: "command")
        chmod(scripts.path, 0o777)
        #expect(try expectMisconfigured("exec:" + path).contains("the directory \(scripts.path) has mode 777"))
        chmod(scripts.path, 0o1777)
        _ = try ExecKEKProvider(uri: KEKURI("exec:" + path))
    }

    @Test(.enabled(if: geteuid() == 0, "only root can give a file away"))
    func aCommandOwnedBySomeoneElseIsRefused() throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        let path = scripts.write("exit 0", name: "command")
        #expect(chown(path, 4242, 4242) == 0)
        #expect(try expectMisconfigured("exec:" + path).contains("is owned by uid 4242"))
    }

    @Test func commandsThatAreNotAbsoluteOrNotFilesAreRefused() throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        #expect(try expectMisconfigured("exec:bin/kek").contains("must be absolute"))
        #expect(try expectMisconfigured("exec:" + scripts.file("missing")).contains("No such file"))
        #expect(try expectMisconfigured("exec:" + scripts.path).contains("is not a regular file"))
    }

    @Test func theCommandIsCheckedAgainBeforeEveryCall() throws {
        let scripts = ScriptDirectory()
        defer { scripts.remove() }
        let provider = try scripts.provider(Self.opensslScript)
        chmod(provider.path, 0o777)
        let error = try expectError { try provider.wrap(.generate()) }
        guard case .misconfigured(_, let reason) = error else {
            Issue.record("expected misconfigured, got \(error)")
            return
        }
        #expect(reason.contains("is writable by group or others"))
    }

    @Test func optionsAreRefused() throws {
        #expect(throws: KEKURIError.unknownOptions(scheme: "exec", names: ["arg"])) {
            try ExecKEKProvider(uri: KEKURI("exec:/bin/true?arg=key-1"))
        }
    }
}

// MARK: - Helpers

/// A temporary directory (mode 755) that holds the test's scripts.
private struct ScriptDirectory {
    let path: String

    init() {
        var template = Array((NSTemporaryDirectory() + "elastickv-exec-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "cannot create a temporary directory")
        path = String(cString: made!)
        chmod(path, 0o755)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Writes a bash script and returns its path.
    func write(_ body: String, name: String = "kek", mode: mode_t = 0o700) -> String {
        let script = body.hasPrefix("#!") ? body : "#!/bin/bash\n" + body + "\n"
        let target = file(name)
        precondition(FileManager.default.createFile(atPath: target, contents: Data(script.utf8)))
        chmod(target, mode)
        return target
    }

    /// An `exec:` provider for a script.
    func provider(_ body: String, name: String = "kek", deadline: Duration = .seconds(10)) throws -> ExecKEKProvider {
        try ExecKEKProvider(uri: KEKURI("exec:" + write(body, name: name)), deadline: deadline)
    }

    func remove() {
        chmod(path, 0o755)
        try? FileManager.default.removeItem(atPath: path)
    }
}

private func bytes(of key: DataEncryptionKey) -> [UInt8] {
    key.secret.withUnsafeBytes { Array($0) }
}

private func expectError(_ body: () throws -> Any) throws -> KEKProviderError {
    do {
        _ = try body()
    } catch let error as KEKProviderError {
        return error
    }
    Issue.record("the call succeeded")
    throw CancellationError()
}

private func expectMisconfigured(_ uri: String) throws -> String {
    do {
        _ = try ExecKEKProvider(uri: KEKURI(uri))
    } catch KEKProviderError.misconfigured(let provider, let reason) {
        #expect(provider == uri)
        return reason
    }
    Issue.record("\(uri) was accepted")
    throw CancellationError()
}

/// Checks that `text` holds none of the usual spellings of `secret`.
private func expectNoSpelling(of secret: [UInt8], in text: String) {
    let hex = secret.map { String(format: "%02x", $0) }.joined()
    let base64 = Data(secret).base64EncodedString()
    let urlSafe = base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    var spellings = [hex, hex.uppercased(), base64, String(base64.prefix(16)), urlSafe, String(hex.prefix(16))]
    if let raw = String(bytes: secret, encoding: .utf8) { spellings += [raw, String(raw.prefix(8))] }
    for spelling in spellings { #expect(!text.contains(spelling), "the error repeats the secret") }
}

/// The number of pipes this process has open.
private func pipeCount() throws -> Int {
    let entries = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")
    return entries.filter { entry in
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + entry))?.hasPrefix("pipe:")
            ?? false
    }.count
}

/// Whether the process `pid` (not our child) is gone or a zombie within two seconds.
private func waitUntilDead(_ pid: Int32) -> Bool {
    for _ in 0..<200 {
        guard let state = ProcessState.of(pid) else { return true }
        if state == "Z" { return true }
        usleep(10_000)
    }
    return false
}
