/* The Redis side of applying the event stream, without jobmond: what Redis on this machine
 * allows at best, measured in the same run as jobmond (benchmarks/jobmond-load.sh, part 2).
 *
 *   floor PORT KEY EVENTS read     XREADGROUP (group `jobmond`, batches of 1,000) and XACK
 *   floor PORT KEY EVENTS writes   the same, plus per batch one MULTI/EXEC holding, for every
 *                                  entry, the writes jobmond's leader makes for a report (SET of
 *                                  a run record with PX, ZADD to the job's run index, XADD to
 *                                  mon:changes) and an HSET of a job state of the size jobmond
 *                                  writes in this benchmark
 * Exits once EVENTS entries were read and acknowledged. Build: gcc -O2 floor.c -lhiredis */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(redisReply *r, const char *what) {
    if (!r || r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "floor: %s: %s\n", what, r ? r->str : "connection lost");
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: floor PORT KEY EVENTS read|writes\n"); return 2; }
    const char *key = argv[2];
    long total = atol(argv[3]), done = 0;
    int writes = strcmp(argv[4], "writes") == 0;
    redisContext *c = redisConnect("127.0.0.1", atoi(argv[1]));
    if (!c || c->err) { fprintf(stderr, "floor: cannot connect\n"); return 1; }
    redisReply *r = redisCommand(c, "XGROUP CREATE %s jobmond 0 MKSTREAM", key);
    if (r) freeReplyObject(r);
    char record[256], state[640];
    memset(record, 'r', sizeof record); memset(state, 's', sizeof state);
    while (done < total) {
        r = redisCommand(c, "XREADGROUP GROUP jobmond floor COUNT 1000 BLOCK 1000 STREAMS %s >", key);
        check(r, "XREADGROUP");
        if (r->type != REDIS_REPLY_ARRAY) { freeReplyObject(r); continue; }
        redisReply *items = r->element[0]->element[1];
        size_t n = items->elements, queued = 0;
        const char **ack = malloc((n + 3) * sizeof *ack);
        size_t *len = malloc((n + 3) * sizeof *len);
        ack[0] = "XACK"; ack[1] = key; ack[2] = "jobmond";
        if (writes) { redisAppendCommand(c, "MULTI"); queued++; }
        for (size_t i = 0; i < n; i++) {
            redisReply *entry = items->element[i];
            const char *id = entry->element[0]->str;
            ack[i + 3] = id;
            if (!writes) continue;
            redisAppendCommand(c, "SET floor:run:%s %b PX 86400000", id, record, sizeof record);
            redisAppendCommand(c, "ZADD floor:runs:%lu 1 %s", (unsigned long)(i % 1000), id);
            redisAppendCommand(c, "XADD floor:changes MINID ~ 0 * job j%lu from up to running at 1 reason r alert x",
                               (unsigned long)(i % 1000));
            redisAppendCommand(c, "HSET floor:state j%lu %b", (unsigned long)(i % 1000), state, sizeof state);
            queued += 4;
        }
        if (writes) { redisAppendCommand(c, "EXEC"); queued++; }
        for (size_t i = 0; i < n + 3; i++) len[i] = strlen(ack[i]);
        redisAppendCommandArgv(c, (int)(n + 3), ack, len);
        for (size_t i = 0; i <= queued; i++) {
            redisReply *reply;
            if (redisGetReply(c, (void **)&reply) != REDIS_OK) check(NULL, "pipeline");
            check(reply, "pipeline");
            freeReplyObject(reply);
        }
        done += (long)n;
        free(ack); free(len);
        freeReplyObject(r);
    }
    redisFree(c);
    return 0;
}
