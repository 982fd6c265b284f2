import NIOCore

extension NIOAsyncChannel {
    /// Wraps an accepted connection so that dropping it unserved closes it instead of trapping.
    ///
    /// A listener that stops (SIGTERM, cancellation) while connections wait in its accept queue drops them
    /// without ever running `executeThenClose`; NIO's default wrapper treats that as a programming error and
    /// stops the process ("Deinited NIOAsyncWriter without calling finish()"), which a client connecting at
    /// shutdown could trigger. Connections that are served still close through `executeThenClose`. (NIO marks
    /// this wrapper deprecated for ordinary use because it tears down on deinit: here that is the point.)
    static func closingOnDeinit(_ channel: any Channel) throws -> NIOAsyncChannel<Inbound, Outbound> {
        try NIOAsyncChannel(synchronouslyWrapping: channel)
    }
}
