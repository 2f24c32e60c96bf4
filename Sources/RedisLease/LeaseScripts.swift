/// The lease's Redis side. Each script runs atomically on one master, so the occurrence
/// claim, the lock and the fencing counter can never disagree on that master.
enum LeaseScripts {
    /// KEYS: lock, fence[, occurrence]   ARGV: owner, ttl_ms[, run_id, occurrence_ttl_s]
    /// The occurrence is claimed only together with the lock: a host that finds the lock
    /// busy must leave the occurrence free for a host that waits (`lock_wait`). Our own lock
    /// (this script re-sent after a dropped connection) counts as granted.
    ///
    /// The fencing token is the counter's INCR, raised to the server's clock in milliseconds
    /// when it is behind: a master restarted without persistence (counter gone) still hands
    /// out a token above every earlier one, as long as its clock did not step back, and
    /// Redlock masters whose clocks agree to within the time between two runs agree too.
    static let acquire = RedisScript("""
        if #KEYS == 3 and ARGV[5] then
          -- The host chose the occurrence by its own clock: not if that clock is off.
          local t = redis.call('TIME')
          local server = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          if math.abs(server - tonumber(ARGV[5])) > tonumber(ARGV[6]) then return {0, 'clock', server} end
        end
        if #KEYS == 3 then
          local claimed = redis.call('GET', KEYS[3])
          if claimed and claimed ~= ARGV[3] then return {0, 'occurrence', claimed} end
        end
        if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
          local holder = redis.call('GET', KEYS[1])
          local ttl = redis.call('PTTL', KEYS[1])
          local expiry = tonumber(holder)
          -- A key without TTL whose value is a past Unix time was left by a crashed cronlock.
          if holder ~= ARGV[1] and not (ttl == -1 and expiry and expiry < tonumber(redis.call('TIME')[1])) then
            return {0, 'lock', holder or '', ttl}
          end
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        end
        if #KEYS == 3 then redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[4]) end
        """ + "\n" + nextFence)

    /// Lua ending a grant: the fencing token for KEYS[2], returned as `{1, 'ok', fence}`.
    private static let nextFence = """
        local fence = redis.call('INCR', KEYS[2])
        local now = redis.call('TIME')
        local clock = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
        if fence < clock then
          fence = clock
          redis.call('SET', KEYS[2], fence)
        end
        return {1, 'ok', fence}
        """

    /// `concurrency: replace`. KEYS: lock, fence, occurrence, replacing
    /// ARGV: owner, ttl_ms, run_id, occurrence_ttl_s, holder, replacing_ttl_ms
    /// Takes the lock from `holder` (the owner the acquire script just reported), and records
    /// that owner in `replacing` so its renewal learns it was replaced rather than lost. Any
    /// other holder by now (a third host was faster) is answered as a held lock.
    static let takeOver = RedisScript("""
        local claimed = redis.call('GET', KEYS[3])
        if claimed and claimed ~= ARGV[3] then return {0, 'occurrence', claimed} end
        local holder = redis.call('GET', KEYS[1])
        if holder and holder ~= ARGV[5] and holder ~= ARGV[1] then
          return {0, 'lock', holder, redis.call('PTTL', KEYS[1])}
        end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        if holder == ARGV[5] then redis.call('SET', KEYS[4], ARGV[5], 'PX', ARGV[6]) end
        redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[4])
        """ + "\n" + nextFence)

    /// KEYS: lock[, replacing]   ARGV: owner, ttl_ms. 1 = extended, 0 = someone else's (or
    /// gone), 2 = taken over by a new occurrence (`concurrency: replace`).
    static let renew = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        if #KEYS == 2 and redis.call('GET', KEYS[2]) == ARGV[1] then return 2 end
        return 0
        """)

    /// KEYS: lock[, occurrence]   ARGV: owner[, run_id]. Deletes only what is ours; the
    /// occurrence is given back only when a quorum acquisition failed half-way.
    static let release = RedisScript("""
        local n = 0
        if redis.call('GET', KEYS[1]) == ARGV[1] then n = redis.call('DEL', KEYS[1]) end
        if #KEYS == 2 and redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
        return n
        """)

    /// KEYS: lock   ARGV: owner, hold_until (Unix seconds). cronlock's grace: the lock stays
    /// until hold_until, holding that time as its value as cronlock expects; deleted if past.
    static let releaseHolding = RedisScript("""
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        if tonumber(ARGV[2]) <= tonumber(redis.call('TIME')[1]) then return redis.call('DEL', KEYS[1]) end
        redis.call('SET', KEYS[1], ARGV[2])
        return redis.call('EXPIREAT', KEYS[1], ARGV[2])
        """)
}
