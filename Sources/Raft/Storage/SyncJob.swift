import DurableIO

/// The file work of one group commit: write the bytes appended since the last sync and make them durable.
///
/// Built by ``DurableLog/beginSync()`` from the log's unwritten bytes, run without access to the log (so a
/// ``GroupCommitter`` can let other threads append to memory meanwhile), and handed back to
/// ``DurableLog/finishSync(_:outcome:)``. Steps run in segment order and each segment is fsynced before the
/// next one is created: a new segment can therefore never reach the disk while the previous one still has
/// a torn tail, which is what lets recovery treat damage in any segment but the last as corruption.
struct SyncJob {
    /// One segment's share of the job.
    struct Step {
        let firstIndex: UInt64
        let path: String
        let bytes: [UInt8]
        /// The segment's open handle, when it has one.
        var file: (any WritableFile)?
        /// Whether the file must be created (its name then needs a directory sync).
        let createsFile: Bool
    }

    var steps: [Step]
    let logDirectory: String
    /// The last index the job makes durable.
    let lastIndex: UInt64

    /// What a finished job hands back: the open handle of the last segment it wrote, or the failure.
    enum Outcome {
        case written(lastFile: any WritableFile)
        case failed(FileSystemError)
    }

    /// Performs the writes, fsyncs and directory sync.
    ///
    /// Handles of all but the last segment are closed after their fsync; the last one stays open for
    /// further appends and is returned.
    consuming func run(on fileSystem: any FileSystem) -> Outcome {
        precondition(!steps.isEmpty, "a sync job has at least one step")
        var createdFile = false
        var lastFile: (any WritableFile)?
        for position in steps.indices {
            let step = steps[position]
            do throws(FileSystemError) {
                let file: any WritableFile
                if let existing = step.file {
                    file = existing
                } else {
                    file = try fileSystem.openFile(at: step.path, mode: step.createsFile ? .truncate : .append)
                }
                createdFile = createdFile || step.createsFile
                try file.write(step.bytes)
                try file.sync()
                if position == steps.count - 1 { lastFile = file } else { try file.close() }
            } catch {
                return .failed(error)
            }
        }
        if createdFile {
            do throws(FileSystemError) { try fileSystem.syncDirectory(at: logDirectory) } catch {
                return .failed(error)
            }
        }
        guard let lastFile else { preconditionFailure("the last step always keeps its file") }
        return .written(lastFile: lastFile)
    }
}
