extension Array where Element == UInt8 {
    /// `withUnsafeBytes` that keeps the body's typed error (the standard library's version erases it).
    public func withBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        var outcome: Swift.Result<Result, Failure>?
        withUnsafeBytes { bytes in
            do throws(Failure) {
                outcome = .success(try body(bytes))
            } catch {
                outcome = .failure(error)
            }
        }
        return try outcome!.get()
    }
}
