// The raw SQLite floor under the store's point lookup: one read-only connection opened with the
// store's flags, the store's SELECT prepared once (SQLITE_PREPARE_PERSISTENT) and one read transaction
// kept open (as the store keeps its snapshot while nothing is committed), then bind, step, read
// every column, reset, for PermIDs drawn from SAMPLE_FILE by the same SplitMix64 sequence as
// `permid-bench lookup` with the same SEED. Prints {"raw_sqlite_lookups_per_s": N}.
// Usage: sqlite_lookup DATABASE SAMPLE_FILE SECONDS SEED | sqlite_lookup --version
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t state;

// SplitMix64, as in bench/tool/main.swift.
static uint64_t next_random(void) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int base64url_value(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

// Decodes unpadded base64url `text` of `length` characters into `out`; returns the byte count or -1.
static int base64url_decode(const char *text, size_t length, unsigned char *out, size_t capacity) {
    uint32_t bits = 0;
    int held = 0;
    size_t written = 0;
    for (size_t i = 0; i < length; i++) {
        int value = base64url_value((unsigned char)text[i]);
        if (value < 0) return -1;
        bits = (bits << 6) | (uint32_t)value;
        held += 6;
        if (held >= 8) {
            held -= 8;
            if (written == capacity) return -1;
            out[written++] = (unsigned char)(bits >> held);
        }
    }
    return (int)written;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("%s %s\n", sqlite3_libversion(), sqlite3_sourceid());
        return 0;
    }
    if (argc != 5) { fprintf(stderr, "usage: sqlite_lookup DATABASE SAMPLE_FILE SECONDS SEED\n"); return 1; }
    double duration = atof(argv[3]);
    state = strtoull(argv[4], NULL, 10);

    FILE *file = fopen(argv[2], "rb");
    if (file == NULL) { perror(argv[2]); return 1; }
    size_t count = 0, capacity = 1024;
    unsigned char (*keys)[128] = malloc(capacity * sizeof *keys);
    int *lengths = malloc(capacity * sizeof *lengths);
    char line[512];
    while (fgets(line, sizeof line, file) != NULL) {
        size_t length = strcspn(line, "\r\n");
        if (length == 0) continue;
        if (count == capacity) {
            capacity *= 2;
            keys = realloc(keys, capacity * sizeof *keys);
            lengths = realloc(lengths, capacity * sizeof *lengths);
        }
        lengths[count] = base64url_decode(line, length, keys[count], sizeof keys[count]);
        if (lengths[count] < 0) { fprintf(stderr, "bad PermID: %.*s\n", (int)length, line); return 1; }
        count++;
    }
    fclose(file);
    if (count == 0) { fprintf(stderr, "%s: no PermIDs\n", argv[2]); return 1; }

    sqlite3 *db = NULL;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], sqlite3_errmsg(db));
        return 1;
    }
    sqlite3_stmt *select = NULL;
    const char *sql = "SELECT permid, sig_alg, seq, issued_at, expires_at, endpoints, signature, sealed FROM records "
                      "WHERE permid = ? AND expires_at > ?";
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &select, NULL) != SQLITE_OK) {
        fprintf(stderr, "prepare: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "begin: %s\n", sqlite3_errmsg(db));
        return 1;
    }
    sqlite3_int64 now = (sqlite3_int64)time(NULL);
    uint64_t done = 0, checksum = 0;
    double start = now_seconds(), elapsed = 0;
    while ((elapsed = now_seconds() - start) < duration) {
        for (int i = 0; i < 1000; i++) {
            size_t index = (size_t)(next_random() % count);
            sqlite3_bind_blob(select, 1, keys[index], lengths[index], SQLITE_STATIC);
            sqlite3_bind_int64(select, 2, now);
            if (sqlite3_step(select) != SQLITE_ROW) { fprintf(stderr, "missing record\n"); return 1; }
            checksum += (uint64_t)sqlite3_column_bytes(select, 0) + (uint64_t)sqlite3_column_int64(select, 1)
                + (uint64_t)sqlite3_column_int64(select, 2) + (uint64_t)sqlite3_column_int64(select, 3)
                + (uint64_t)sqlite3_column_int64(select, 4) + (uint64_t)sqlite3_column_bytes(select, 5)
                + (uint64_t)sqlite3_column_bytes(select, 6) + (uint64_t)sqlite3_column_bytes(select, 7);
            checksum += ((const unsigned char *)sqlite3_column_blob(select, 0))[0];
            checksum += ((const unsigned char *)sqlite3_column_blob(select, 5))[0];
            checksum += ((const unsigned char *)sqlite3_column_blob(select, 6))[0];
            sqlite3_reset(select);
        }
        done += 1000;
    }
    sqlite3_finalize(select);
    sqlite3_close(db);
    printf("{\"raw_sqlite_lookups_per_s\": %.1f, \"checksum\": %llu}\n", (double)done / elapsed, (unsigned long long)checksum);
    return 0;
}
