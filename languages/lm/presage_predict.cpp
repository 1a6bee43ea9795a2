// Presage as a prediction server for `nib ksr --presage`, so that Presage is
// measured by nib's own keystroke-savings protocol (engine/src/eval.rs)
// rather than only by presage_simulator's. One request per line on stdin:
// the text before the cursor, the typed letters of the current word at its
// end. One answer per line on stdout: the suggestions, best first,
// tab-separated (as many as the configuration's SUGGESTIONS).
//
// Build (languages/lm/presage.sh does): g++ -O2 -o presage_predict presage_predict.cpp -lpresage
// Usage: presage_predict CONFIG.xml
#include <presage.h>

#include <iostream>
#include <string>
#include <vector>

namespace {

// The text before the cursor, set before each prediction; nothing after it.
class PastStream : public PresageCallback {
public:
    std::string past;
    std::string get_past_stream() const override { return past; }
    std::string get_future_stream() const override { return std::string(); }
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: presage_predict CONFIG.xml\n";
        return 2;
    }
    PastStream stream;
    try {
        Presage presage(&stream, argv[1]);
        std::string line;
        while (std::getline(std::cin, line)) {
            stream.past = line;
            const std::vector<std::string> words = presage.predict();
            for (size_t i = 0; i < words.size(); ++i) {
                if (i > 0) std::cout << '\t';
                std::cout << words[i];
            }
            std::cout << '\n' << std::flush;
        }
    } catch (const PresageException& e) {
        std::cerr << "presage: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
