import ServiceLifecycle

/// Runs `body` until it returns or graceful shutdown begins; the cancellation that shutdown causes is a
/// normal end, not an error.
func runUntilGracefulShutdown(_ body: @escaping @Sendable () async throws -> Void) async throws {
    do {
        try await cancelWhenGracefulShutdown(body)
    } catch is CancellationError {
        return
    }
}
