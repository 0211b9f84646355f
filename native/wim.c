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
 *   winsmith-wim update WIM INDEX LEVEL < COMMANDS
 *     Changes the image in place in one write: adds, deletes and renames, the image's properties, with
 *     the data it writes (new files, and the image's metadata, which every update compresses again)
 *     compressed at LEVEL. wimlib-imagex update has no compression level (its LZX default, 50, costs
 *     most of a small change for metadata 1–2% smaller) and sets properties in a second write.
 *
 * COMMANDS are NUL-terminated fields, one command after the other:
 *   add SOURCE TARGET       a host file or directory at TARGET (replacing what is there)
 *   delete PATH             PATH and what is under it
 *   rename FROM TO
 *   property NAME VALUE     an image property (wimlib's names: NAME, DESCRIPTION, WINDOWS/...)
 * Progress goes to stdout in wimlib-imagex's words ("Archiving file data: D bytes of T bytes (P%)
 * done"). Errors go to stderr as one line, with wimlib's error code as the exit status (2: usage).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wimlib.h>

#define MAX_COMMANDS_BYTES (64u << 20) /* the commands and properties of one update */

struct input {
	char *data;
	size_t len;
	size_t pos;
};

static int fail(const char *what, const char *detail, int code)
{
	fprintf(stderr, "winsmith-wim: %s: %s\n", what, detail);
	return code;
}

static int read_all(struct input *in)
{
	size_t cap = 1 << 16;
	in->data = malloc(cap);
	in->len = 0;
	in->pos = 0;
	if (!in->data)
		return -1;
	for (;;) {
		if (in->len == cap) {
			if (cap >= MAX_COMMANDS_BYTES)
				return -1;
			cap *= 2;
			char *bigger = realloc(in->data, cap);
			if (!bigger)
				return -1;
			in->data = bigger;
		}
		size_t n = fread(in->data + in->len, 1, cap - in->len, stdin);
		in->len += n;
		if (n == 0)
			return ferror(stdin) ? -1 : 0;
	}
}

/* The next NUL-terminated field, or NULL at the end of the input or on an unterminated field. */
static char *field(struct input *in)
{
	if (in->pos >= in->len)
		return NULL;
	char *start = in->data + in->pos;
	char *end = memchr(start, '\0', in->len - in->pos);
	if (!end)
		return NULL;
	in->pos = (size_t)(end - in->data) + 1;
	return start;
}

static enum wimlib_progress_status progress(enum wimlib_progress_msg msg, union wimlib_progress_info *info,
					    void *unused)
{
	(void)unused;
	if (msg == WIMLIB_PROGRESS_MSG_WRITE_STREAMS) {
		uint64_t done = info->write_streams.completed_bytes, total = info->write_streams.total_bytes;
		printf("Archiving file data: %" PRIu64 " bytes of %" PRIu64 " bytes (%u%%) done\n", done, total,
		       total == 0 ? 100u : (unsigned)(done * 100 / total));
		fflush(stdout);
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

static int list(const char *path, int index, const char *under, const char **parts, unsigned nparts)
{
	static char out[1 << 20];
	setvbuf(stdout, out, _IOFBF, sizeof(out));
	WIMStruct *wim;
	int ret = wimlib_open_wim(path, 0, &wim);
	if (ret)
		return fail(path, wimlib_get_error_string(ret), ret);
	if (nparts > 0) {
		ret = wimlib_reference_resource_files(wim, parts, nparts, 0, 0);
		if (ret)
			return fail("PART", wimlib_get_error_string(ret), ret);
	}
	ret = wimlib_iterate_dir_tree(wim, index, under, WIMLIB_ITERATE_DIR_TREE_FLAG_RECURSIVE, print_entry, NULL);
	if (ret)
		return fail(under, wimlib_get_error_string(ret), ret);
	if (fflush(stdout) != 0)
		return fail("standard output", strerror(errno), 2);
	wimlib_free(wim);
	return 0;
}

static int update(const char *path, int index, const char *level_arg)
{
	char *end;
	long level = strtol(level_arg, &end, 10);
	if (*end != '\0' || level < 1 || level > 100)
		return fail("LEVEL", "expected a compression level from 1 to 100", 2);

	struct input in;
	if (read_all(&in) != 0)
		return fail("standard input", "could not read the commands", 2);

	size_t max_commands = in.len / 2 + 1;
	struct wimlib_update_command *cmds = calloc(max_commands, sizeof(*cmds));
	const char **props = calloc(max_commands, sizeof(*props));
	if (!cmds || !props)
		return fail("memory", strerror(ENOMEM), 2);
	size_t ncmds = 0, nprops = 0;
	for (char *op; (op = field(&in)) != NULL;) {
		struct wimlib_update_command *c = &cmds[ncmds];
		char *a = field(&in);
		char *b = strcmp(op, "delete") == 0 ? NULL : field(&in);
		if (!a || (strcmp(op, "delete") != 0 && !b))
			return fail("standard input", "a command lacks its arguments", 2);
		if (strcmp(op, "add") == 0) {
			c->op = WIMLIB_UPDATE_OP_ADD;
			c->add.fs_source_path = a;
			c->add.wim_target_path = b;
			c->add.add_flags = WIMLIB_ADD_FLAG_EXCLUDE_VERBOSE | WIMLIB_ADD_FLAG_WINCONFIG;
			ncmds++;
		} else if (strcmp(op, "delete") == 0) {
			c->op = WIMLIB_UPDATE_OP_DELETE;
			c->delete_.wim_path = a;
			c->delete_.delete_flags = WIMLIB_DELETE_FLAG_RECURSIVE;
			ncmds++;
		} else if (strcmp(op, "rename") == 0) {
			c->op = WIMLIB_UPDATE_OP_RENAME;
			c->rename.wim_source_path = a;
			c->rename.wim_target_path = b;
			ncmds++;
		} else if (strcmp(op, "property") == 0) {
			props[nprops++] = a;
			props[nprops++] = b;
		} else {
			return fail("standard input", "unknown command (expected add, delete, rename or property)", 2);
		}
	}

	int ret = wimlib_set_default_compression_level(-1, (unsigned)level);
	if (ret)
		return fail("LEVEL", wimlib_get_error_string(ret), ret);
	WIMStruct *wim;
	ret = wimlib_open_wim_with_progress(path, WIMLIB_OPEN_FLAG_WRITE_ACCESS, &wim, progress, NULL);
	if (ret)
		return fail(path, wimlib_get_error_string(ret), ret);
	if (ncmds > 0) {
		ret = wimlib_update_image(wim, index, cmds, ncmds, 0);
		if (ret)
			return fail("update", wimlib_get_error_string(ret), ret);
	}
	for (size_t i = 0; i < nprops; i += 2) {
		ret = wimlib_set_image_property(wim, index, props[i], props[i + 1]);
		if (ret)
			return fail(props[i], wimlib_get_error_string(ret), ret);
	}
	ret = wimlib_overwrite(wim, WIMLIB_WRITE_FLAG_FSYNC, 0);
	if (ret)
		return fail("write", wimlib_get_error_string(ret), ret);
	wimlib_free(wim);
	return 0;
}

int main(int argc, char **argv)
{
	const char *usage = "winsmith-wim list WIM INDEX [PATH [PART...]] | update WIM INDEX LEVEL < COMMANDS";
	if (argc < 4)
		return fail("usage", usage, 2);
	char *end;
	long index = strtol(argv[3], &end, 10);
	if (*end != '\0' || index < 1 || index > INT_MAX)
		return fail("INDEX", "expected an image number from 1", 2);
	int ret = wimlib_global_init(0);
	if (ret)
		return fail("wimlib", wimlib_get_error_string(ret), ret);
	if (strcmp(argv[1], "list") == 0)
		ret = list(argv[2], (int)index, argc > 4 ? argv[4] : "/", (const char **)argv + 5,
			   argc > 5 ? (unsigned)(argc - 5) : 0);
	else if (strcmp(argv[1], "update") == 0 && argc == 5)
		ret = update(argv[2], (int)index, argv[4]);
	else
		ret = fail("usage", usage, 2);
	wimlib_global_cleanup();
	return ret;
}
