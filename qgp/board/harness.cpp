// Verilator harness of a board top (ulx3s_top with the PLL's simulation model) behind a
// pseudo-terminal: `qgp board-sim` (qgp/board/sim.py) opens the terminal and hands its master
// side to this program as a file descriptor.
//
// Bytes the host writes to the terminal are shifted into the board's UART receive pin
// (ftdi_txd) bit by bit, 8N1, CPB clock cycles per bit; the board's transmit pin (ftdi_rxd) is
// sampled in the middle of each bit and every byte with a valid stop bit goes back to the host.
// Nothing here knows the protocol. The clock runs while there is something to do: a byte to
// send or being received, or the board's busy LED (led[6]) lit; otherwise the harness waits
// for the host in poll() and simulation time stands still.
// Options: --fd N (the terminal), --cpb N (clock cycles per bit: the top's CLK_HZ / BAUD),
// --reset-cycles N (cycles run before "ready" is printed).
// Prints "ready" on stdout after the reset, and on exit "E <cycles> cycles".
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "Vulx3s_top.h"
#include "verilated.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }
[[noreturn]] void die(const std::string& msg) {
    std::fprintf(stderr, "board-sim harness: %s\n", msg.c_str());
    std::exit(2);
}
}  // namespace

int main(int argc, char** argv) {
    int fd = -1;
    long cpb = 8;
    long reset_cycles = 1000;
    std::vector<char*> vargs{argv[0]};
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> const char* {
            if (i + 1 >= argc) die("missing value for " + a);
            return argv[++i];
        };
        if (a == "--fd") fd = std::atoi(next());
        else if (a == "--cpb") cpb = std::atol(next());
        else if (a == "--reset-cycles") reset_cycles = std::atol(next());
        else vargs.push_back(argv[i]);
    }
    if (fd < 0) die("--fd is required");
    if (cpb < 4) die("--cpb must be >= 4");
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    std::signal(SIGPIPE, SIG_IGN);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

    auto ctx = std::make_unique<VerilatedContext>();
    int vargc = static_cast<int>(vargs.size());
    ctx->commandArgs(vargc, vargs.data());
    auto top = std::make_unique<Vulx3s_top>(ctx.get());
    top->clk_25mhz = 0;
    top->btn = 0;
    top->ftdi_txd = 1;
    top->eval();

    std::deque<uint8_t> to_board;     // bytes from the host, not yet on the line
    std::vector<uint8_t> to_host;     // bytes from the board, not yet written
    // transmit driver (host -> board): 10-bit frame, LSB first
    int drv_bits = 0;
    long drv_cnt = 0;
    uint16_t drv_shift = 0;
    // receive sampler (board -> host)
    int smp_state = 0;  // 0 idle, 1..8 data bits, 9 stop bit
    long smp_cnt = 0;
    uint8_t smp_byte = 0;
    uint64_t cycle = 0;
    uint8_t buf[4096];

    auto clock = [&]() {
        top->clk_25mhz = 1;
        top->eval();
        top->clk_25mhz = 0;
        top->eval();
        ++cycle;
    };
    auto flush_host = [&]() {
        while (!to_host.empty()) {
            ssize_t w = write(fd, to_host.data(), to_host.size());
            if (w <= 0) break;
            to_host.erase(to_host.begin(), to_host.begin() + w);
        }
    };
    auto read_host = [&]() {
        for (;;) {
            ssize_t r = read(fd, buf, sizeof buf);
            if (r <= 0) break;
            to_board.insert(to_board.end(), buf, buf + r);
        }
    };

    for (long i = 0; i < reset_cycles; ++i) clock();
    std::printf("ready\n");
    std::fflush(stdout);

    while (!g_stop) {
        const bool busy = (top->led >> 6) & 1;
        const bool idle = to_board.empty() && drv_bits == 0 && smp_state == 0 && !busy;
        if (idle) {
            flush_host();
            struct pollfd p{fd, static_cast<short>(POLLIN | (to_host.empty() ? 0 : POLLOUT)), 0};
            int r = poll(&p, 1, 200);
            if (r < 0 && errno != EINTR) die(std::string("poll: ") + std::strerror(errno));
            read_host();
            if (to_board.empty()) continue;
        } else if ((cycle & 255) == 0) {
            read_host();
            flush_host();
        }
        // host -> board: one bit every cpb cycles
        if (drv_bits == 0 && !to_board.empty()) {
            drv_shift = static_cast<uint16_t>((1u << 9) | (to_board.front() << 1));
            to_board.pop_front();
            drv_bits = 10;
            drv_cnt = 0;
        }
        if (drv_bits) {
            top->ftdi_txd = drv_shift & 1;
            if (++drv_cnt == cpb) {
                drv_cnt = 0;
                drv_shift >>= 1;
                --drv_bits;
            }
        } else {
            top->ftdi_txd = 1;
        }
        clock();
        // board -> host: sample the middle of each bit
        const int line = top->ftdi_rxd & 1;
        if (smp_state == 0) {
            if (!line) {
                smp_state = 1;
                smp_cnt = cpb + cpb / 2;
                smp_byte = 0;
            }
        } else if (--smp_cnt == 0) {
            if (smp_state <= 8) {
                smp_byte = static_cast<uint8_t>(smp_byte | (line << (smp_state - 1)));
                ++smp_state;
                smp_cnt = cpb;
            } else {
                if (line) to_host.push_back(smp_byte);
                smp_state = 0;
            }
        }
        if (to_host.size() >= 64) flush_host();
    }
    flush_host();
    top->final();
    std::printf("E %llu cycles\n", static_cast<unsigned long long>(cycle));
    return 0;
}
