// Generated from themes/*.theme by themes/make-builtin.sh (a test checks they stay identical):
// the shipped themes are compiled in so `inftop` has them wherever it is installed.

/// The themes shipped in `themes/`, by name, in `T` order.
public enum BuiltinThemes {
    public static let names = ["default", "light", "sixteen", "mono"]

    /// The file text of a shipped theme (without its final newline).
    public static func text(_ name: String) -> String? {
        switch name {
        case "default": defaultText
        case "light": lightText
        case "sixteen": sixteenText
        case "mono": monoText
        default: nil
        }
    }

    static let defaultText = #"""
# inftop default theme (dark), in btop's theme format.
# Colours: "#RRGGBB", "#RGB", btop's grey "#BW", "R G B" decimal, a bare palette index 0-255,
# or "" for the terminal's default colour. Copy this file to ~/.config/inftop/themes/NAME.theme
# to make your own; btop themes load unchanged.

# Background of every cell ("" = the terminal's own background)
theme[main_bg]="#11151c"
# Text
theme[main_fg]="#c8ccd4"
# Panel titles
theme[title]="#eeeeee"
# Key names in hints, the focused panel's border
theme[hi_fg]="#e5a84b"
# Selected row in the layer table
theme[selected_bg]="#2d4a6b"
theme[selected_fg]="#ffffff"
# Disabled text, raw (unsmoothed) curves, "coming" keys
theme[inactive_fg]="#5c6370"
# Axis labels
theme[graph_text]="#8b929e"
# Empty part of bars
theme[meter_bg]="#262b34"
theme[proc_misc]="#4ec9b0"
# Panel borders: Training, Memory, Latency, Layers
theme[cpu_box]="#4d7a5a"
theme[mem_box]="#7d7650"
theme[net_box]="#5d5a92"
theme[proc_box]="#8c5858"
theme[div_line]="#343a44"
# Gradients (start, mid, end)
theme[temp_start]="#4897d4"
theme[temp_mid]="#5474e8"
theme[temp_end]="#ff40b6"
# Layer share bars, throughput (start)
theme[cpu_start]="#5cc98e"
theme[cpu_mid]="#d9c65a"
theme[cpu_end]="#e0524f"
# Memory owners: dataset, other
theme[free_start]="#3a5a2a"
theme[free_mid]="#a8e07a"
theme[free_end]="#d2f08a"
# Memory owners: activations, caches
theme[cached_start]="#1a3a55"
theme[cached_mid]="#6fd6f2"
theme[cached_end]="#2ab4f0"
# Memory owners: gradients, optimizer state
theme[available_start]="#504010"
theme[available_mid]="#f2cd72"
theme[available_end]="#f5a623"
# Memory owners: weights fp32, weights int8
theme[used_start]="#5a2a25"
theme[used_mid]="#d86a74"
theme[used_end]="#ff5a6e"
# Training curves and p50 latency (end)
theme[download_start]="#1d3b66"
theme[download_mid]="#3f7fc8"
theme[download_end]="#61b0ff"
# Test curves and p99 latency (end)
theme[upload_start]="#663a1d"
theme[upload_mid]="#c8743f"
theme[upload_end]="#ffa25c"
# Epoch progress
theme[process_start]="#5cc98e"
theme[process_mid]="#7dd3a8"
theme[process_end]="#a6e3c4"
"""#

    static let lightText = #"""
# inftop light theme, in btop's theme format (see default.theme for the value forms).
theme[main_bg]="#f7f7f5"
theme[main_fg]="#2b2b2b"
theme[title]="#000000"
theme[hi_fg]="#b35900"
theme[selected_bg]="#c9ddf2"
theme[selected_fg]="#000000"
theme[inactive_fg]="#9a9a9a"
theme[graph_text]="#6b6b6b"
theme[meter_bg]="#e2e2de"
theme[proc_misc]="#11806a"
theme[cpu_box]="#4f8a5e"
theme[mem_box]="#8a7d3a"
theme[net_box]="#5a57a8"
theme[proc_box]="#a65050"
theme[div_line]="#c8c8c4"
theme[temp_start]="#2f6fb0"
theme[temp_mid]="#4a5fd0"
theme[temp_end]="#c8308a"
theme[cpu_start]="#1f9d55"
theme[cpu_mid]="#b59a12"
theme[cpu_end]="#c8302c"
theme[free_start]="#a9d18e"
theme[free_mid]="#5e9e2f"
theme[free_end]="#3d7a12"
theme[cached_start]="#9cc9e6"
theme[cached_mid]="#2f8fc8"
theme[cached_end]="#1466a3"
theme[available_start]="#f0d29a"
theme[available_mid]="#d9961c"
theme[available_end]="#b3700a"
theme[used_start]="#f0b0b0"
theme[used_mid]="#d0505c"
theme[used_end]="#b01f38"
theme[download_start]="#a8c8f0"
theme[download_mid]="#4a8ad8"
theme[download_end]="#1f6fd1"
theme[upload_start]="#f0c8a8"
theme[upload_mid]="#e0803a"
theme[upload_end]="#c9501a"
theme[process_start]="#1f9d55"
theme[process_mid]="#2fa866"
theme[process_end]="#3fb377"
"""#

    static let sixteenText = #"""
# inftop 16-colour theme: every colour is one of the terminal's own 16 palette entries
# (a bare number 0-15), so it follows your terminal's colour scheme and needs nothing more
# than a 16-colour terminal. Backgrounds and text are the terminal's defaults ("").
theme[main_bg]=""
theme[main_fg]=""
theme[title]=""
theme[hi_fg]="3"
theme[selected_bg]="4"
theme[selected_fg]="15"
theme[inactive_fg]="8"
theme[graph_text]="8"
theme[meter_bg]="8"
theme[proc_misc]="2"
theme[cpu_box]="2"
theme[mem_box]="3"
theme[net_box]="5"
theme[proc_box]="1"
theme[div_line]="8"
theme[temp_start]="4"
theme[temp_mid]="6"
theme[temp_end]="5"
theme[cpu_start]="2"
theme[cpu_mid]="3"
theme[cpu_end]="1"
theme[free_start]="2"
theme[free_mid]="10"
theme[free_end]="2"
theme[cached_start]="6"
theme[cached_mid]="14"
theme[cached_end]="6"
theme[available_start]="3"
theme[available_mid]="11"
theme[available_end]="3"
theme[used_start]="1"
theme[used_mid]="9"
theme[used_end]="1"
theme[download_start]="4"
theme[download_mid]="12"
theme[download_end]="4"
theme[upload_start]="5"
theme[upload_mid]="13"
theme[upload_end]="1"
theme[process_start]="2"
theme[process_mid]="2"
theme[process_end]="2"
"""#

    static let monoText = #"""
# inftop monochrome theme: the terminal's default colours everywhere; bold, dim and reverse
# still mark the focused panel, the selected row and badges.
theme[main_bg]=""
theme[main_fg]=""
theme[title]=""
theme[hi_fg]=""
theme[selected_bg]=""
theme[selected_fg]=""
theme[inactive_fg]=""
theme[graph_text]=""
theme[meter_bg]=""
theme[proc_misc]=""
theme[cpu_box]=""
theme[mem_box]=""
theme[net_box]=""
theme[proc_box]=""
theme[div_line]=""
theme[temp_start]=""
theme[cpu_start]=""
theme[free_start]=""
theme[cached_start]=""
theme[available_start]=""
theme[used_start]=""
theme[download_start]=""
theme[upload_start]=""
theme[process_start]=""
"""#
}
