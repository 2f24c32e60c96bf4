/// How the sending thread hands encoded messages to Graylog.
protocol Transport: AnyObject {
    /// Sends `payloads` (GELF JSON, one message each) in order; returns how many were not
    /// delivered. Without a connection (refused, unresolvable, or the next attempt not due
    /// yet) it returns at once, so the batch is dropped and counted rather than held: a
    /// Graylog that is down never makes the job's exit wait. `giveUp` bounds waits on a
    /// receiver that is connected but slow.
    func deliver(_ payloads: ArraySlice<[UInt8]>, giveUp: () -> Bool) -> Int
    func close()
}
