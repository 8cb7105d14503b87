/*
 * complete.c - what may come next on a command line, from the command
 * table and the option specs alone: command names, options, fixed value
 * sets, files, and values from the index (domains, hosts, addresses,
 * queue IDs).  pfi repl's Tab asks it directly; the bash, zsh and fish
 * completions ask it through the hidden `pfi __complete WORD...`.
 */
#include <stdlib.h>
#include <string.h>

#include "pfi.h"

/* Values from the index: at most this many. */
#define COMPLETE_MAX 200

/* Where a command line stands before its last word. */
struct complete_state {
	const struct pfi_cmd *cmd;    /* the command, once named */
	const struct cli_opt *want;   /* an option waiting for its value */
	int ended;                    /* after "--" */
	int operands;                 /* operands before the last word */
	const char *first;            /* the first operand */
};

/* ---- the candidate list ------------------------------------------------- */

/* Adds head + s when s starts with prefix. */
static void offer(struct cli_words *w, const char *head, const char *s,
                  const char *prefix)
{
	char buf[1024];

	if (strncmp(s, prefix, strlen(prefix)) != 0)
		return;
	snprintf(buf, sizeof(buf), "%s%s", head, s);
	cli_words_add(w, buf);
}

/* ---- reading the words before the last ---------------------------------- */

static const struct cli_opt *find_long(const struct cli_opt *opts,
                                       const char *name, size_t n)
{
	const struct cli_opt *o;

	for (o = opts; o != NULL && o->name != NULL; o++)
		if (strlen(o->name) == n && strncmp(o->name, name, n) == 0)
			return o;
	return NULL;
}

/* "--name" or "--name=v": the option it names, global or the command's. */
static const struct cli_opt *word_long(const struct complete_state *s,
                                       const char *w)
{
	size_t n = strcspn(w + 2, "=");
	const struct cli_opt *o = find_long(pfi_global_opts, w + 2, n);

	if (o == NULL && s->cmd != NULL)
		o = find_long(s->cmd->opts, w + 2, n);
	return o;
}

/* "-abc": the option still waiting for a value at its end, or NULL. */
static const struct cli_opt *word_short(const struct complete_state *s,
                                        const char *w)
{
	const struct cli_opt *o;

	for (w++; *w != '\0' && s->cmd != NULL; w++) {
		for (o = s->cmd->opts; o != NULL && o->name != NULL; o++)
			if (o->short_name == *w)
				break;
		if (o == NULL || o->name == NULL || o->arg == CLI_ARG_NONE ||
		    (o->flags & CLI_OPT_OPTIONAL_VALUE))
			continue;
		return w[1] == '\0' ? o : NULL;   /* "-ovalue" holds its value */
	}
	return NULL;
}

static void complete_word(struct complete_state *s, const char *w, int repl)
{
	const struct cli_opt *o;

	if (s->want != NULL) {
		s->want = NULL;
	} else if (!s->ended && s->cmd != NULL && strcmp(w, "--") == 0) {
		s->ended = 1;
	} else if (!s->ended && w[0] == '-' && w[1] == '-') {
		o = word_long(s, w);
		if (o != NULL && o->arg != CLI_ARG_NONE && strchr(w, '=') == NULL &&
		    !(o->flags & CLI_OPT_OPTIONAL_VALUE))
			s->want = o;
	} else if (!s->ended && w[0] == '-' && w[1] != '\0') {
		s->want = word_short(s, w);
	} else if (s->cmd == NULL) {
		s->cmd = cli_cmd_find(w, repl);
		if (s->cmd == NULL)
			s->ended = 1;   /* an unknown command: nothing to offer */
	} else {
		if (s->operands++ == 0)
			s->first = w;
	}
}

/* ---- candidates --------------------------------------------------------- */

static int value_from_index(void *ctx, const char *v)
{
	cli_words_add(ctx, v);
	return 0;
}

/* Values of `kind` from the index, when it opens; quietly none if not. */
static void index_values(struct cli_complete *c, enum pfi_complete_kind kind,
                         const char *prefix, struct cli_words *w)
{
	pfi_store *st = c->store ? c->store(c->ctx) : NULL;

	if (st != NULL)
		pfi_complete_values(st, kind, prefix, COMPLETE_MAX,
		                    value_from_index, w);
}

static void commands(struct cli_words *w, const char *prefix, int repl)
{
	const struct pfi_cmd *const *c;

	for (c = pfi_cmds; *c != NULL; c++)
		if (!((*c)->flags & CMD_HIDDEN) &&
		    (repl || !((*c)->flags & CMD_REPL_ONLY)))
			offer(w, "", (*c)->name, prefix);
}

/* Values of a choice; in a comma list, for the item after the last comma. */
static void choices(struct cli_words *w, const struct cli_opt *o,
                    const char *head, const char *cur)
{
	const char *const *v;
	const char *comma = (o->flags & CLI_OPT_LIST) ? strrchr(cur, ',') : NULL;
	char buf[512];

	if (comma != NULL) {
		snprintf(buf, sizeof(buf), "%s%.*s", head, (int)(comma + 1 - cur),
		         cur);
		head = buf;
		cur = comma + 1;
	}
	for (v = o->choices; v != NULL && *v != NULL; v++)
		offer(w, head, *v, cur);
}

static const enum pfi_complete_kind index_kind[] = {
	[CLI_ARG_RECIPIENT] = PFI_COMPLETE_RECIPIENT,
	[CLI_ARG_SENDER] = PFI_COMPLETE_SENDER,
	[CLI_ARG_DOMAIN] = PFI_COMPLETE_DOMAIN,
	[CLI_ARG_SENDER_DOMAIN] = PFI_COMPLETE_SENDER_DOMAIN,
	[CLI_ARG_HOST] = PFI_COMPLETE_HOST,
	[CLI_ARG_QUEUE_ID] = PFI_COMPLETE_QUEUE_ID,
};

/* Values of kind arg (of option o, or NULL) after head; 1 for "a file". */
int cli_complete_value(struct cli_complete *c, enum cli_arg arg,
                       const struct cli_opt *o, const char *head,
                       const char *cur, struct cli_words *w)
{
	struct cli_words found = { NULL, 0, 0 };
	size_t i;

	switch (arg) {
	case CLI_ARG_CHOICE:
		choices(w, o, head, cur);
		return 0;
	case CLI_ARG_FILE:
		return 1;
	case CLI_ARG_COMMAND:
		commands(w, cur, c->repl);
		return 0;
	case CLI_ARG_RECIPIENT: case CLI_ARG_SENDER: case CLI_ARG_DOMAIN:
	case CLI_ARG_SENDER_DOMAIN: case CLI_ARG_HOST: case CLI_ARG_QUEUE_ID:
		index_values(c, index_kind[arg], cur, &found);
		for (i = 0; i < found.n; i++)
			offer(w, head, found.v[i], "");
		cli_words_release(&found);
		return 0;
	default:
		return 0;
	}
}

/* The options of the command (or the global ones) that start with cur. */
static void options(struct cli_words *w, const struct complete_state *s,
                    const char *cur)
{
	const struct cli_opt *o;
	char name[80];

	for (o = s->cmd ? s->cmd->opts : NULL; o && o->name; o++) {
		snprintf(name, sizeof(name), "--%s", o->name);
		if (!(o->flags & CLI_OPT_HIDDEN))
			offer(w, "", name, cur);
	}
	if (s->cmd != NULL && !(s->cmd->flags & CMD_REPL_ONLY))
		offer(w, "", "--help", cur);
	for (o = pfi_global_opts; o->name != NULL; o++) {
		snprintf(name, sizeof(name), "--%s", o->name);
		if (s->cmd == NULL || (strcmp(o->name, "help") != 0 &&
		                       strcmp(o->name, "version") != 0))
			offer(w, "", name, cur);
	}
}

int cli_complete(struct cli_complete *c, int n, char **words,
                 struct cli_words *w)
{
	struct complete_state s = { NULL, NULL, 0, 0, NULL };
	const char *cur = n > 0 ? words[n - 1] : "", *eq;
	const struct cli_opt *o;
	char head[256];
	int i;

	for (i = 0; i < n - 1; i++)
		complete_word(&s, words[i], c->repl);
	if (s.want != NULL)
		return cli_complete_value(c, s.want->arg, s.want, "", cur, w);
	if (!s.ended && cur[0] == '-' && cur[1] == '-' &&
	    (eq = strchr(cur, '=')) != NULL) {
		if ((o = word_long(&s, cur)) == NULL)
			return 0;
		snprintf(head, sizeof(head), "%.*s", (int)(eq + 1 - cur), cur);
		return cli_complete_value(c, o->arg, o, head, eq + 1, w);
	}
	if (!s.ended && cur[0] == '-') {
		options(w, &s, cur);
		return 0;
	}
	if (s.cmd == NULL) {
		if (!s.ended)
			commands(w, cur, c->repl);
		return 0;
	}
	if (s.cmd->flags & CMD_REPL_ONLY && c->operands != NULL)
		return c->operands(c, s.cmd, s.operands, s.first, cur, w);
	return cli_complete_value(c, s.cmd->operand_arg, NULL, "", cur, w);
}

/* ---- pfi __complete ------------------------------------------------------ */

static pfi_store *complete_store(void *ctx)
{
	struct pfi_globals *g = ctx;

	const char *path;

	if (g->store != NULL || g->db_path != NULL)
		return g->store;
	if ((path = cli_db_path_quiet(g)) != NULL &&
	    pfi_store_open(&g->store, path, PFI_OPEN_READONLY) != PFI_OK) {
		pfi_store_close(g->store);
		g->store = NULL;
	}
	return g->store;
}

/*
 * `pfi __complete WORD...`: the words after "pfi" on the command line, as
 * they stand (a "--" among them is theirs), the last being the one to
 * complete ("" for a new word).  Prints
 * one candidate a line, or ":file" when the shell should complete paths.
 */
static int cmd_complete(struct pfi_globals *g, int argc, char **argv)
{
	struct cli_complete c = { 0, complete_store, g, NULL };
	struct cli_words w = { NULL, 0, 0 };
	char *empty[1] = { "" };
	int i, from = 1;
	size_t k;

	/* --db on the line being completed names the index to ask */
	for (i = from; i + 1 < argc; i++)
		if (strcmp(argv[i], "--db") == 0)
			g->db = argv[i + 1];
		else if (strncmp(argv[i], "--db=", 5) == 0)
			g->db = argv[i] + 5;
	if (argc - from <= 0)
		i = cli_complete(&c, 1, empty, &w);
	else
		i = cli_complete(&c, argc - from, argv + from, &w);
	if (i == 1)
		puts(":file");
	for (k = 0; k < w.n; k++)
		puts(w.v[k]);
	cli_words_release(&w);
	return PFI_EXIT_OK;
}

const struct pfi_cmd cmd_complete_entry = {
	"__complete", "complete a command line (for the shell completions)",
	NULL, NULL, "WORD...", CLI_ARG_NONE, CMD_HIDDEN, cmd_complete
};
