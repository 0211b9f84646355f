/*
 * winsmith-wim: the two WIM operations winsmith needs faster than wimlib-imagex does them, written
 * against libwim (wimlib's library). Everything else goes through wimlib-imagex.
 *
 *   winsmith-wim list WIM INDEX [PATH [PART...]]
 *     Every file and directory of the image (or of the subtree at PATH, included), for a program to
 *     read: per entry four NUL-terminated fields, the full path, the attributes (decimal), the size of
 *     the unnamed data stream and its SHA-1 in hex (empty when it has none). PART: the other parts of
 *     a split WIM. `wimlib-imagex dir --detailed` says the same in ~20 lines of text per entry, which
 *     costs more to print and to read than wimlib takes to find it.
 *
 *   winsmith-wim dir WIM INDEX PATH [PART...]
 *     One directory: the entry at PATH, then each entry directly in it (nothing deeper), in the
 *     fields of list. A folder such as Windows\WinSxS holds tens of thousands of entries with a
 *     hundred thousand more below them: a browser of the image asks for one level at a time.
 *
 *   winsmith-wim session WIM INDEX LEVEL
 *     Works on one image through one opening of the WIM, driven by commands on stdin (fields
 *     ending in NUL), done in order as they come:
 *       list                    the listing above on stdout, then an empty field
 *       extract DEST N PATH...  N files or folders of the image into the folder DEST, each under its
 *                               base name; then "extracted" on stdout
 *       add SOURCE TARGET       a host file or folder at TARGET (replacing what is there)
 *       delete PATH             PATH and what is under it
 *       rename FROM TO
 *       property NAME VALUE     an image property (wimlib's names: NAME, DESCRIPTION, WINDOWS/...)
 *       commit                  the adds, deletes, renames and properties in one write of the WIM
 *                               in place; then "committed" on stdout, and the program ends
 *     The end of stdin without commit leaves the WIM as it was. What commit writes (new files, and
 *     the image's metadata, which every update compresses again) is compressed at LEVEL:
 *     wimlib-imagex update has no compression level (its LZX default, 50, costs most of a small
 *     change for metadata 1–2% smaller) and sets properties in a second write. Each opening reads
 *     and decompresses the image's metadata, the larger part of a small change's cost: one session
 *     lists, extracts and writes for the price of one.
 *
 * Write progress goes to stderr in wimlib-imagex's words ("Archiving file data: D bytes of T bytes
 * (P%) done"). Errors go to stderr as one line, with wimlib's error code as the exit status (2:
 * usage or bad commands).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wimlib.h>

static int fail(const char *what, const char *detail, int code)
{
	fprintf(stderr, "winsmith-wim: %s: %s\n", what, detail);
	return code;
}

/* The next NUL-terminated field of stdin in a new string, or NULL at its end. */
static char *next_field(void)
{
	char *text = NULL;
	size_t cap = 0;
	ssize_t n = getdelim(&text, &cap, '\0', stdin);
	if (n <= 0 || text[n - 1] != '\0') {
		free(text);
		return NULL;
	}
	return text;
}

static enum wimlib_progress_status progress(enum wimlib_progress_msg msg, union wimlib_progress_info *info,
					    void *unused)
{
	(void)unused;
	if (msg == WIMLIB_PROGRESS_MSG_WRITE_STREAMS) {
		uint64_t done = info->write_streams.completed_bytes, total = info->write_streams.total_bytes;
		fprintf(stderr, "Archiving file data: %" PRIu64 " bytes of %" PRIu64 " bytes (%u%%) done\n", done,
			total, total == 0 ? 100u : (unsigned)(done * 100 / total));
	}
	return WIMLIB_PROGRESS_STATUS_CONTINUE;
}

static void print_field(const char *text)
{
	fputs(text, stdout);
	putchar('\0');
}

static int print_entry(const struct wimlib_dir_entry *e, void *unused)
{
	(void)unused;
	/* streams[0] is the unnamed data stream, unless the file is encrypted or a reparse point. */
	int has_data = !(e->attributes & (WIMLIB_FILE_ATTRIBUTE_ENCRYPTED | WIMLIB_FILE_ATTRIBUTE_REPARSE_POINT));
	const struct wimlib_resource_entry *r = &e->streams[0].resource;
	uint8_t zero[20] = { 0 };
	print_field(e->full_path);
	printf("%" PRIu32 "%c%" PRIu64 "%c", e->attributes, '\0', has_data ? r->uncompressed_size : 0, '\0');
	if (has_data && memcmp(r->sha1_hash, zero, sizeof(zero)) != 0)
		for (size_t i = 0; i < sizeof(zero); i++)
			printf("%02x", r->sha1_hash[i]);
	putchar('\0');
	return 0;
}

static int print_listing(WIMStruct *wim, int index, const char *under)
{
	int ret = wimlib_iterate_dir_tree(wim, index, under, WIMLIB_ITERATE_DIR_TREE_FLAG_RECURSIVE, print_entry, NULL);
	if (ret)
		return fail(under, wimlib_get_error_string(ret), ret);
	return 0;
}

static int print_dir(WIMStruct *wim, int index, const char *under)
{
	int ret = wimlib_iterate_dir_tree(wim, index, under, 0, print_entry, NULL);
	if (ret == 0)
		ret = wimlib_iterate_dir_tree(wim, index, under, WIMLIB_ITERATE_DIR_TREE_FLAG_CHILDREN, print_entry,
					      NULL);
	if (ret)
		return fail(under, wimlib_get_error_string(ret), ret);
	return 0;
}

static int list(const char *path, int index, const char *under, const char **parts, unsigned nparts,
		int (*print)(WIMStruct *, int, const char *))
{
	WIMStruct *wim;
	int ret = wimlib_open_wim(path, 0, &wim);
	if (ret)
		return fail(path, wimlib_get_error_string(ret), ret);
	if (nparts > 0) {
		ret = wimlib_reference_resource_files(wim, parts, nparts, 0, 0);
		if (ret)
			return fail("PART", wimlib_get_error_string(ret), ret);
	}
	ret = print(wim, index, under);
	if (ret)
		return ret;
	if (fflush(stdout) != 0)
		return fail("standard output", strerror(errno), 2);
	wimlib_free(wim);
	return 0;
}

/* The update commands and properties queued until commit. */
struct queue {
	struct wimlib_update_command *cmds;
	size_t ncmds, cap;
	char **props; /* name, value, name, value, ... */
	size_t nprops, props_cap;
};

static int grow(void **array, size_t *cap, size_t used, size_t size)
{
	if (used < *cap)
		return 0;
	size_t bigger = *cap ? *cap * 2 : 16;
	void *p = realloc(*array, bigger * size);
	if (!p)
		return -1;
	*array = p;
	*cap = bigger;
	return 0;
}

static int queue_command(struct queue *q, const char *op)
{
	char *a = next_field();
	char *b = strcmp(op, "delete") == 0 ? NULL : next_field();
	if (!a || (strcmp(op, "delete") != 0 && !b))
		return fail("standard input", "a command lacks its arguments", 2);
	if (strcmp(op, "property") == 0) {
		if (grow((void **)&q->props, &q->props_cap, q->nprops + 1, sizeof(*q->props)))
			return fail("memory", strerror(ENOMEM), 2);
		q->props[q->nprops++] = a;
		q->props[q->nprops++] = b;
		return 0;
	}
	if (grow((void **)&q->cmds, &q->cap, q->ncmds, sizeof(*q->cmds)))
		return fail("memory", strerror(ENOMEM), 2);
	struct wimlib_update_command *c = &q->cmds[q->ncmds++];
	memset(c, 0, sizeof(*c));
	if (strcmp(op, "add") == 0) {
		c->op = WIMLIB_UPDATE_OP_ADD;
		c->add.fs_source_path = a;
		c->add.wim_target_path = b;
		c->add.add_flags = WIMLIB_ADD_FLAG_EXCLUDE_VERBOSE | WIMLIB_ADD_FLAG_WINCONFIG;
	} else if (strcmp(op, "delete") == 0) {
		c->op = WIMLIB_UPDATE_OP_DELETE;
		c->delete_.wim_path = a;
		c->delete_.delete_flags = WIMLIB_DELETE_FLAG_RECURSIVE;
	} else {
		c->op = WIMLIB_UPDATE_OP_RENAME;
		c->rename.wim_source_path = a;
		c->rename.wim_target_path = b;
	}
	return 0;
}

static int extract(WIMStruct *wim, int index)
{
	char *dest = next_field();
	char *count = next_field();
	if (!dest || !count)
		return fail("standard input", "extract lacks its folder or its count", 2);
	char *end;
	unsigned long n = strtoul(count, &end, 10);
	if (*end != '\0' || n == 0 || n > 1u << 20)
		return fail("standard input", "extract: expected a count of paths from 1", 2);
	const char **paths = calloc(n, sizeof(*paths));
	if (!paths)
		return fail("memory", strerror(ENOMEM), 2);
	for (unsigned long i = 0; i < n; i++)
		if (!(paths[i] = next_field()))
			return fail("standard input", "extract has fewer paths than its count", 2);
	int ret = wimlib_extract_paths(wim, index, dest, paths, n,
				       WIMLIB_EXTRACT_FLAG_NO_ACLS | WIMLIB_EXTRACT_FLAG_NO_PRESERVE_DIR_STRUCTURE);
	if (ret)
		return fail("extract", wimlib_get_error_string(ret), ret);
	for (unsigned long i = 0; i < n; i++)
		free((char *)paths[i]);
	free(paths);
	free(count);
	free(dest);
	print_field("extracted");
	return 0;
}

static int commit(WIMStruct *wim, int index, struct queue *q)
{
	int ret;
	if (q->ncmds > 0) {
		ret = wimlib_update_image(wim, index, q->cmds, q->ncmds, 0);
		if (ret)
			return fail("update", wimlib_get_error_string(ret), ret);
	}
	for (size_t i = 0; i < q->nprops; i += 2) {
		ret = wimlib_set_image_property(wim, index, q->props[i], q->props[i + 1]);
		if (ret)
			return fail(q->props[i], wimlib_get_error_string(ret), ret);
	}
	ret = wimlib_overwrite(wim, WIMLIB_WRITE_FLAG_FSYNC, 0);
	if (ret)
		return fail("write", wimlib_get_error_string(ret), ret);
	print_field("committed");
	return 0;
}

static int session(const char *path, int index, const char *level_arg)
{
	char *end;
	long level = strtol(level_arg, &end, 10);
	if (*end != '\0' || level < 1 || level > 100)
		return fail("LEVEL", "expected a compression level from 1 to 100", 2);
	int ret = wimlib_set_default_compression_level(-1, (unsigned)level);
	if (ret)
		return fail("LEVEL", wimlib_get_error_string(ret), ret);
	WIMStruct *wim;
	ret = wimlib_open_wim_with_progress(path, WIMLIB_OPEN_FLAG_WRITE_ACCESS, &wim, progress, NULL);
	if (ret)
		return fail(path, wimlib_get_error_string(ret), ret);
	struct queue q = { 0 };
	for (char *op; (op = next_field()) != NULL; free(op)) {
		if (strcmp(op, "list") == 0) {
			ret = print_listing(wim, index, "/");
			if (!ret)
				putchar('\0');
		} else if (strcmp(op, "extract") == 0) {
			ret = extract(wim, index);
		} else if (strcmp(op, "commit") == 0) {
			ret = commit(wim, index, &q);
			if (!ret)
				ret = fflush(stdout) ? fail("standard output", strerror(errno), 2) : 0;
			free(op);
			break;
		} else if (strcmp(op, "add") == 0 || strcmp(op, "delete") == 0 || strcmp(op, "rename") == 0 ||
			   strcmp(op, "property") == 0) {
			ret = queue_command(&q, op);
		} else {
			ret = fail("standard input",
				   "unknown command (expected list, extract, add, delete, rename, property or commit)", 2);
		}
		if (ret)
			return ret;
		if (fflush(stdout) != 0)
			return fail("standard output", strerror(errno), 2);
	}
	wimlib_free(wim);
	return ret;
}

int main(int argc, char **argv)
{
	const char *usage =
		"winsmith-wim list WIM INDEX [PATH [PART...]] | dir WIM INDEX PATH [PART...] | session WIM INDEX LEVEL";
	if (argc < 4)
		return fail("usage", usage, 2);
	char *end;
	long index = strtol(argv[3], &end, 10);
	if (*end != '\0' || index < 1 || index > INT_MAX)
		return fail("INDEX", "expected an image number from 1", 2);
	static char out[1 << 20];
	setvbuf(stdout, out, _IOFBF, sizeof(out));
	int ret = wimlib_global_init(0);
	if (ret)
		return fail("wimlib", wimlib_get_error_string(ret), ret);
	if (strcmp(argv[1], "list") == 0)
		ret = list(argv[2], (int)index, argc > 4 ? argv[4] : "/", (const char **)argv + 5,
			   argc > 5 ? (unsigned)(argc - 5) : 0, print_listing);
	else if (strcmp(argv[1], "dir") == 0 && argc > 4)
		ret = list(argv[2], (int)index, argv[4], (const char **)argv + 5, (unsigned)(argc - 5), print_dir);
	else if (strcmp(argv[1], "session") == 0 && argc == 5)
		ret = session(argv[2], (int)index, argv[4]);
	else
		ret = fail("usage", usage, 2);
	wimlib_global_cleanup();
	return ret;
}
