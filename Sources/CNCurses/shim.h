#ifndef INFTOP_CNCURSES_SHIM_H
#define INFTOP_CNCURSES_SHIM_H
/* Wide-character ncurses: both defines must come before the include (PLATFORM.md). */
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <ncurses.h>

/* Macros and globals Swift cannot import or rejects as shared mutable state. */
static inline WINDOW *inftop_stdscr(void) { return stdscr; }
static inline int inftop_lines(void) { return LINES; }
static inline int inftop_cols(void) { return COLS; }
static inline int inftop_colors(void) { return COLORS; }
static inline int inftop_color_pairs(void) { return COLOR_PAIRS; }
static inline attr_t inftop_a_bold(void) { return A_BOLD; }
static inline attr_t inftop_a_dim(void) { return A_DIM; }
static inline attr_t inftop_a_reverse(void) { return A_REVERSE; }
static inline attr_t inftop_a_underline(void) { return A_UNDERLINE; }
static inline attr_t inftop_a_normal(void) { return A_NORMAL; }
static inline int inftop_key_resize(void) { return KEY_RESIZE; }
static inline int inftop_key_f(int n) { return KEY_F(n); }
static inline int inftop_key_btab(void) { return KEY_BTAB; }
static inline int inftop_key_up(void) { return KEY_UP; }
static inline int inftop_key_down(void) { return KEY_DOWN; }
static inline int inftop_key_left(void) { return KEY_LEFT; }
static inline int inftop_key_right(void) { return KEY_RIGHT; }
static inline int inftop_key_npage(void) { return KEY_NPAGE; }
static inline int inftop_key_ppage(void) { return KEY_PPAGE; }
static inline int inftop_key_home(void) { return KEY_HOME; }
static inline int inftop_key_end(void) { return KEY_END; }
static inline int inftop_key_backspace(void) { return KEY_BACKSPACE; }
static inline int inftop_key_enter(void) { return KEY_ENTER; }
static inline int inftop_err(void) { return ERR; }
static inline int inftop_ok(void) { return OK; }
static inline attr_t inftop_color_pair(int n) { return COLOR_PAIR(n); }

/* Added for the dashboard terminal (NCursesTerminal.swift). */
static inline int inftop_key_dc(void) { return KEY_DC; }
static inline int inftop_key_code_yes(void) { return KEY_CODE_YES; }
/* newterm on the process's stdout/stdin: unlike initscr it returns NULL instead of exiting
   when the terminal cannot be set up. */
static inline SCREEN *inftop_newterm(void) { return newterm(NULL, stdout, stdin); }
/* Writes one cell: a NUL-terminated wide string (one grapheme), attributes and an extended
   colour pair (setcchar takes pairs above 32767 through its opts pointer). */
static inline int inftop_put_cell(int y, int x, const wchar_t *wstr, attr_t attrs, int pair) {
    cchar_t cc;
    if (setcchar(&cc, wstr, attrs, 0, &pair) != OK) return ERR;
    return mvwadd_wch(stdscr, y, x, &cc);
}
#endif
