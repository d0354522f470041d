// The live view's frames (poetry_client/reporters/live_frame.hpp), drawn from made-up states at made-up
// sizes: what the header and each line say, how many lines fit, that no line is wider than the screen
// allows, colours only when asked, the strip's cells in time; and what the environment decides.
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "reporters/live_frame.hpp"
#include "reporters/terminal.hpp"
#include "support/pipe.hpp"

namespace client = poetry::client;
using namespace std::chrono_literals;

namespace {

std::vector<client::Download> three_downloads() {
    return {client::Download{1, poetry::net::Address("127.0.0.1", 8000), 2000, "ecstasy"},
            client::Download{2, poetry::net::Address("127.0.0.1", 8001), 600, "science"},
            client::Download{3, poetry::net::Address("127.0.0.1", 8002), std::nullopt, std::nullopt}};
}

/// A snapshot of `downloads`, all shown, each in its given state with its given bytes.
client::LiveSnapshot snapshot_of(const std::vector<client::Download>& downloads,
                                 const std::vector<std::pair<client::LiveState, std::size_t>>& lines) {
    client::LiveSnapshot snapshot;
    snapshot.strategy = "callbacks";
    snapshot.elapsed = client::Seconds(2.0);
    snapshot.cpu = client::Seconds(0.5);
    snapshot.downloads = downloads.size();
    snapshot.now_cell = 1000;  // 100 s into the run
    snapshot.in_state[static_cast<std::size_t>(client::LiveState::waiting)] = downloads.size() - lines.size();
    for (std::size_t i = 0; i < lines.size(); ++i) {
        client::LiveDownload line{&downloads[i], lines[i].first, lines[i].second, {}};
        snapshot.first.push_back(line);
        snapshot.bytes += lines[i].second;
        ++snapshot.in_state[static_cast<std::size_t>(lines[i].first)];
    }
    return snapshot;
}

/// The characters a line takes on screen: colour codes take none, a UTF-8 character takes one.
std::size_t screen_width(const std::string& line) {
    std::size_t width = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '\x1b') {
            i = line.find('m', i);
            BOOST_REQUIRE(i != std::string::npos);
            continue;
        }
        width += (static_cast<unsigned char>(line[i]) & 0xC0U) != 0x80U ? 1 : 0;
    }
    return width;
}

/// Sets (or, with nullopt, unsets) an environment variable for the scope, then puts it back.
class ScopedVariable {
public:
    ScopedVariable(const char* name, std::optional<std::string> value) : name_(name) {
        if (const char* old = std::getenv(name)) {
            old_ = old;
        }
        set(value);
    }
    ScopedVariable(const ScopedVariable&) = delete;
    ScopedVariable& operator=(const ScopedVariable&) = delete;
    ~ScopedVariable() { set(old_); }

private:
    void set(const std::optional<std::string>& value) {
        if (value) {
            ::setenv(name_, value->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }
    const char* name_;
    std::optional<std::string> old_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(live_frame)

BOOST_AUTO_TEST_CASE(the_header_sums_up_the_run_and_each_download_has_its_line) {
    const auto downloads = three_downloads();
    const auto snapshot = snapshot_of(downloads, {{client::LiveState::receiving, 1000},
                                                  {client::LiveState::complete, 600},
                                                  {client::LiveState::connecting, 0}});
    const auto lines = client::render_live_frame(snapshot, {24, 120}, {});
    BOOST_REQUIRE_EQUAL(lines.size(), 4U);
    BOOST_TEST(lines[0].rfind("callbacks  2.0 s  1/3 done  800 B/s  CPU 0.50 s (25%)", 0) == 0U, lines[0]);
    BOOST_TEST(lines[1].find("    1  ecstasy 127.0.0.1:8000") == 0U, lines[1]);
    BOOST_TEST(lines[1].find("receiving") != std::string::npos, lines[1]);
    BOOST_TEST(lines[1].find("[##########..........]") != std::string::npos, lines[1]);  // half of it
    BOOST_TEST(lines[1].find("1,000/2,000 B") != std::string::npos, lines[1]);
    BOOST_TEST(lines[2].find("complete") != std::string::npos, lines[2]);
    BOOST_TEST(lines[2].find("[####################]") != std::string::npos, lines[2]);
    BOOST_TEST(lines[2].find("600/600 B") != std::string::npos, lines[2]);
    // No size known: no bar, the bytes so far.
    BOOST_TEST(lines[3].find("    3  127.0.0.1:8002") == 0U, lines[3]);
    BOOST_TEST(lines[3].find("connecting") != std::string::npos, lines[3]);
    BOOST_TEST(lines[3].find('[') == std::string::npos, lines[3]);
    BOOST_TEST(lines[3].find(" 0 B") != std::string::npos, lines[3]);
    for (const auto& line : lines) {
        BOOST_TEST(line.find('\x1b') == std::string::npos, "a colour code without colours: " << line);
    }
}

BOOST_AUTO_TEST_CASE(the_header_names_the_downloads_that_did_not_end_well) {
    const auto downloads = three_downloads();
    const auto snapshot = snapshot_of(downloads, {{client::LiveState::partial, 10},
                                                  {client::LiveState::failed, 0},
                                                  {client::LiveState::interrupted, 3}});
    const auto lines = client::render_live_frame(snapshot, {24, 160}, {});
    BOOST_TEST(lines[0].find("3/3 done") != std::string::npos, lines[0]);
    BOOST_TEST(lines[0].find("1 partial  1 failed  1 interrupted") != std::string::npos, lines[0]);
}

BOOST_AUTO_TEST_CASE(the_downloads_past_the_screens_height_are_summed_up_in_one_line) {
    std::vector<client::Download> downloads;
    for (int task = 1; task <= 100; ++task) {
        downloads.push_back({task, poetry::net::Address("127.0.0.1", 9000), 100, "ecstasy"});
    }
    const std::size_t shown = client::live_lines_for(downloads.size(), 10);
    BOOST_TEST(shown == 7U);  // 10 rows: the header, 7 downloads, the rest's line, and one row free
    std::vector<std::pair<client::LiveState, std::size_t>> lines(shown, {client::LiveState::receiving, 50});
    auto snapshot = snapshot_of(downloads, lines);
    // Of the 93 not shown, 3 are complete and 90 still wait.
    snapshot.in_state[static_cast<std::size_t>(client::LiveState::waiting)] -= 3;
    snapshot.in_state[static_cast<std::size_t>(client::LiveState::complete)] += 3;
    const auto frame = client::render_live_frame(snapshot, {10, 100}, {});
    BOOST_REQUIRE_EQUAL(frame.size(), 9U);
    BOOST_TEST(frame.back() == "  ... 93 more: 90 waiting, 3 complete");
}

BOOST_AUTO_TEST_CASE(lines_for_the_frame_leave_a_row_free_and_fit_any_height) {
    BOOST_TEST(client::live_lines_for(5, 24) == 5U);
    BOOST_TEST(client::live_lines_for(22, 24) == 22U);  // header + 22 = 23 rows: all fit
    BOOST_TEST(client::live_lines_for(23, 24) == 21U);  // header + 21 + the rest's line
    BOOST_TEST(client::live_lines_for(0, 24) == 0U);
    BOOST_TEST(client::live_lines_for(10, 3) == 0U);  // the header alone
    BOOST_TEST(client::live_lines_for(10, 1) == 0U);
}

BOOST_AUTO_TEST_CASE(no_line_is_wider_than_the_screen_in_any_style) {
    const auto downloads = three_downloads();
    auto snapshot = snapshot_of(downloads, {{client::LiveState::receiving, 1000},
                                            {client::LiveState::complete, 600},
                                            {client::LiveState::receiving, 12345}});
    snapshot.first[0].strip.add(snapshot.now_cell, 100);
    for (const bool colour : {false, true}) {
        for (const bool unicode : {false, true}) {
            for (const int columns : {1, 2, 10, 40, 79, 80, 132, 300}) {
                for (const auto& line :
                     client::render_live_frame(snapshot, {24, columns}, {colour, unicode})) {
                    BOOST_TEST(screen_width(line) <= static_cast<std::size_t>(std::max(columns - 1, 0)),
                               columns << " columns: " << line);
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(on_80_columns_the_bar_and_label_narrow_so_that_the_bytes_still_show) {
    std::vector<client::Download> downloads{
        client::Download{1, poetry::net::Address("127.0.0.1", 65535), 2000, "a-poem-with-a-long-name"}};
    const auto snapshot = snapshot_of(downloads, {{client::LiveState::receiving, 1000}});
    const auto narrow = client::render_live_frame(snapshot, {24, 80}, {});
    BOOST_TEST(narrow[1].find("[#####.....]") != std::string::npos, narrow[1]);
    BOOST_TEST(narrow[1].ends_with("1,000/2,000 B"), narrow[1]);  // and no room for a strip
    BOOST_TEST(narrow[1].find("  a-poem-with-a-long-name 12  receiving") != std::string::npos, narrow[1]);
    const auto wide = client::render_live_frame(snapshot, {24, 160}, {});
    BOOST_TEST(wide[1].find("[##########..........]") != std::string::npos, wide[1]);
    BOOST_TEST(wide[1].find("  a-poem-with-a-long-name 127.  receiving") != std::string::npos, wide[1]);
}

BOOST_AUTO_TEST_CASE(colours_mark_each_state_when_asked_and_close_after_it) {
    const auto downloads = three_downloads();
    const auto snapshot = snapshot_of(downloads, {{client::LiveState::receiving, 10},
                                                  {client::LiveState::complete, 600},
                                                  {client::LiveState::failed, 0}});
    const auto lines = client::render_live_frame(snapshot, {24, 120}, {true, false});
    BOOST_TEST(lines[1].find("\x1b[36mreceiving") != std::string::npos, lines[1]);
    BOOST_TEST(lines[2].find("\x1b[32mcomplete") != std::string::npos, lines[2]);
    BOOST_TEST(lines[3].find("\x1b[31mfailed") != std::string::npos, lines[3]);
    for (const auto& line : lines) {
        std::size_t codes = 0;
        std::size_t resets = 0;
        for (auto at = line.find("\x1b["); at != std::string::npos; at = line.find("\x1b[", at + 1)) {
            ++codes;
            resets += line.compare(at, 4, "\x1b[0m") == 0 ? 1 : 0;
        }
        BOOST_TEST(codes == 2 * resets, "a colour left open: " << line);
    }
}

BOOST_AUTO_TEST_CASE(the_strip_shows_each_chunk_in_the_cell_of_its_time_scaled_to_the_largest) {
    const auto downloads = three_downloads();
    auto snapshot =
        snapshot_of(downloads, {{client::LiveState::receiving, 400}, {client::LiveState::receiving, 25}});
    snapshot.first[0].strip.add(snapshot.now_cell, 200);       // the last cell
    snapshot.first[0].strip.add(snapshot.now_cell - 10, 100);  // ten cells before it, twice
    snapshot.first[0].strip.add(snapshot.now_cell - 10, 100);
    snapshot.first[1].strip.add(snapshot.now_cell, 25);  // an eighth of the largest
    const auto lines = client::render_live_frame(snapshot, {24, 200}, {});
    const std::string strip = lines[1].substr(lines[1].find(" B  ") + 4);
    BOOST_REQUIRE_EQUAL(strip.size(), 40U);  // 4 s of 0.1 s cells
    BOOST_TEST(strip.back() == '@', lines[1]);
    BOOST_TEST(strip[strip.size() - 11] == '@', lines[1]);
    BOOST_TEST(strip.substr(strip.size() - 10, 9) == std::string(9, ' '), lines[1]);
    BOOST_TEST(lines[2].back() == '.', lines[2]);  // the smallest mark: something came
}

BOOST_AUTO_TEST_CASE(a_strip_keeps_its_last_forty_cells_whatever_the_rate) {
    client::ChunkStrip strip;
    for (std::int64_t cell = 0; cell < 100; ++cell) {
        for (int chunk = 0; chunk < 50; ++chunk) {  // 500 chunks a second: every one counts
            strip.add(cell, 2);
        }
    }
    BOOST_TEST(strip.bytes_in(99) == 100U);
    BOOST_TEST(strip.bytes_in(60) == 100U);
    BOOST_TEST(strip.bytes_in(59) == 0U);   // older than the last 40
    BOOST_TEST(strip.bytes_in(100) == 0U);  // still to come
    strip.add(50, 7);                       // too old to count
    BOOST_TEST(strip.bytes_in(90) == 100U);
    strip.add(105, 3);  // after a silence, the cells between count from zero
    BOOST_TEST(strip.bytes_in(101) == 0U);
    BOOST_TEST(strip.bytes_in(105) == 3U);
    BOOST_TEST(strip.bytes_in(99) == 100U);
    strip.add(500, 1);  // a silence longer than the strip clears all of it
    BOOST_TEST(strip.bytes_in(99) == 0U);
    BOOST_TEST(strip.bytes_in(470) == 0U);
    BOOST_TEST(strip.bytes_in(500) == 1U);
}

BOOST_AUTO_TEST_CASE(strip_cells_count_tenths_of_a_second_from_the_run_start) {
    const auto start = poetry::Clock::now();
    BOOST_TEST(client::strip_cell_of(start, start) == 0);
    BOOST_TEST(client::strip_cell_of(start, start + 99ms) == 0);
    BOOST_TEST(client::strip_cell_of(start, start + 100ms) == 1);
    BOOST_TEST(client::strip_cell_of(start, start + 1050ms) == 10);
    BOOST_TEST(client::strip_cell_of(start, start - 1s) == 0);
}

BOOST_AUTO_TEST_CASE(the_environment_decides_colours_and_block_characters) {
    const ScopedVariable term("TERM", "xterm-256color");
    const ScopedVariable lc_all("LC_ALL", std::nullopt);
    const ScopedVariable lc_ctype("LC_CTYPE", std::nullopt);
    {
        const ScopedVariable no_colour("NO_COLOR", std::nullopt);
        const ScopedVariable lang("LANG", "en_GB.UTF-8");
        const auto style = client::live_style_from_environment();
        BOOST_TEST(style.colour);
        BOOST_TEST(style.unicode);
    }
    {
        const ScopedVariable no_colour("NO_COLOR", "1");
        const ScopedVariable lang("LANG", "C");
        const auto style = client::live_style_from_environment();
        BOOST_TEST(!style.colour);
        BOOST_TEST(!style.unicode);
    }
    {
        const ScopedVariable no_colour("NO_COLOR", "");  // empty: as if unset (no-color.org)
        const ScopedVariable lang("LANG", "C.utf8");
        const ScopedVariable all("LC_ALL", "POSIX");  // LC_ALL wins over LANG
        const auto style = client::live_style_from_environment();
        BOOST_TEST(style.colour);
        BOOST_TEST(!style.unicode);
    }
    {
        const ScopedVariable dumb("TERM", "dumb");
        BOOST_TEST(!client::live_style_from_environment().colour);
    }
}

BOOST_AUTO_TEST_CASE(a_pipe_cannot_show_a_live_view) {
    const poetry::test::Pipe pipe = poetry::test::open_pipe();
    const auto why = client::why_no_live_view(pipe.write.get());
    BOOST_TEST((why && *why == "stdout is not a terminal"));
    BOOST_TEST(!client::terminal_size(pipe.write.get()).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
