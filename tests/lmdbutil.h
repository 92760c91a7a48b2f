/* lmdbutil.h - temporary directories and forks for the durable-store tests
 * (and the benchmarks: no cmocka here). */
#ifndef VV_LMDBUTIL_H
#define VV_LMDBUTIL_H
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Make a fresh directory under $TMPDIR (or /tmp); the path is malloc'd. */
static inline char *lu_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char *p;
    size_t n;
    if (!base || !*base) base = "/tmp";
    n = strlen(base) + strlen(tag) + 16;
    p = malloc(n);
    if (!p) return NULL;
    snprintf(p, n, "%s/vv-%s-XXXXXX", base, tag);
    if (!mkdtemp(p)) { free(p); return NULL; }
    return p;
}

/* Remove a directory tree (files and directories only, no symlinks
 * followed).  Quiet when it is already gone. */
static inline void lu_rmrf(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    if (!d) { unlink(path); return; }
    while ((e = readdir(d)) != NULL) {
        char sub[4096];
        struct stat st;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >=
            (int)sizeof sub) continue;
        if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) lu_rmrf(sub);
        else unlink(sub);
    }
    closedir(d);
    rmdir(path);
}

/* Join dir and name into buf. */
static inline const char *lu_join(char *buf, size_t n, const char *dir,
                           const char *name)
{
    if (snprintf(buf, n, "%s/%s", dir, name) >= (int)n) buf[0] = 0;
    return buf;
}

/* Read a whole file into malloc'd memory; NULL when it cannot. */
static inline unsigned char *lu_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p = NULL;
    long n;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)n + 1)) != NULL) {
        if (fread(p, 1, (size_t)n, f) != (size_t)n) { free(p); p = NULL; }
        else *len = (size_t)n;
    }
    fclose(f);
    return p;
}

/* Write len bytes to path (created or truncated); 0 on success. */
static inline int lu_spit(const char *path, const void *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    int rc = 0;
    if (!f) return -1;
    if (len && fwrite(p, 1, len, f) != len) rc = -1;
    if (fclose(f) != 0) rc = -1;
    return rc;
}

/* cmocka setup: a fresh directory, its path in *state. */
static inline int lu_setup_dir(void **state)
{
    char *d = lu_tmpdir("test");
    if (!d) return -1;
    *state = d;
    return 0;
}

/* cmocka teardown: remove the directory lu_setup_dir made. */
static inline int lu_teardown_dir(void **state)
{
    lu_rmrf(*state);
    free(*state);
    return 0;
}

/* Wait for a child; its exit status, or 128 + signal. */
static inline int lu_wait(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return -1;
}

/* Run fn(arg) in a child process that exits with what fn returns; the
 * child's pid, -1 when there is none. */
static inline pid_t lu_spawn(int (*fn)(void *), void *arg)
{
    pid_t pid = fork();
    if (pid == 0) _exit(fn(arg));
    return pid;
}

/* Run fn(arg) in a child process and wait for it: its exit status as
 * lu_wait gives it, -1 when it could not start. */
static inline int lu_child(int (*fn)(void *), void *arg)
{
    pid_t pid = lu_spawn(fn, arg);
    return pid < 0 ? -1 : lu_wait(pid);
}
#endif
