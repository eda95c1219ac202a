// The OpenCV DNN options vigil could set (src/detect/opencv.cc sets backend
// OPENCV, target CPU, fusion on, VIGIL_DETECT_THREADS threads), timed on one
// model: threads 1 and 2, layer fusion off, target OPENCL. Straight on OpenCV,
// bench only: the picture is simply resized to the input (no letterbox);
// every output is computed, and what differs from the first set's is
// printed as the largest absolute difference of the first output.
//
// Usage: dnn-options MODEL.onnx SIZE PICTURE.rgb WIDTH HEIGHT N
// Prints one JSON object per option set: median wall and CPU ms of N runs
// after two warm-up runs, the sets taking turns run by run.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/core/ocl.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

struct Options {
  const char *name;
  int threads;
  bool fusion;
  int target;
};

static double now_ms(clockid_t clock)
{
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static double median(std::vector<double> v)
{
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int main(int argc, char **argv)
{
  if (argc != 7) {
    fprintf(stderr, "usage: %s MODEL.onnx SIZE PICTURE.rgb WIDTH HEIGHT N\n", argv[0]);
    return 2;
  }
  int size = atoi(argv[2]), w = atoi(argv[4]), h = atoi(argv[5]), n = atoi(argv[6]);
  std::ifstream f(argv[3], std::ios::binary);
  std::vector<unsigned char> rgb((std::istreambuf_iterator<char>(f)),
                                 std::istreambuf_iterator<char>());
  if (rgb.size() != (size_t)w * h * 3 || n < 1) {
    fprintf(stderr, "%s: not a %dx%d RGB24 picture\n", argv[3], w, h);
    return 1;
  }
  cv::Mat img(h, w, CV_8UC3, rgb.data()), resized;
  cv::resize(img, resized, cv::Size(size, size), 0, 0, cv::INTER_AREA);
  // NCHW floats 0..255, channels as they are (RGB), as vigil feeds CenterNet.
  cv::Mat blob = cv::dnn::blobFromImage(resized, 1.0, cv::Size(), cv::Scalar(), false, false);

  printf("{\"opencv\": \"%s\", \"have_opencl\": %s, \"opencv_targets\": [", CV_VERSION,
         cv::ocl::haveOpenCL() ? "true" : "false");
  auto targets = cv::dnn::getAvailableTargets(cv::dnn::DNN_BACKEND_OPENCV);
  for (size_t i = 0; i < targets.size(); i++)
    printf("%s%d", i ? ", " : "", (int)targets[i]);
  printf("]}\n");

  const Options sets[] = {
      {"threads 1, fusion on, target CPU (vigil)", 1, true, cv::dnn::DNN_TARGET_CPU},
      {"threads 2, fusion on, target CPU", 2, true, cv::dnn::DNN_TARGET_CPU},
      {"threads 1, fusion off, target CPU", 1, false, cv::dnn::DNN_TARGET_CPU},
      {"threads 1, fusion on, target OPENCL", 1, true, cv::dnn::DNN_TARGET_OPENCL},
  };
  // The option sets take turns, one inference each, so that the machine's
  // other load falls on all of them alike.
  const int count = sizeof(sets) / sizeof(sets[0]);
  std::vector<cv::dnn::Net> nets(count);
  std::vector<std::vector<double>> wall(count), cpu(count);
  std::vector<cv::Mat> outs(count);
  std::vector<std::string> errors(count);
  for (int i = -2; i < n; i++) {
    for (int k = 0; k < count; k++) {
      const Options &o = sets[k];
      if (!errors[k].empty())
        continue;
      try {
        cv::setNumThreads(o.threads);
        if (i == -2) {
          nets[k] = cv::dnn::readNetFromONNX(argv[1]);
          nets[k].setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
          nets[k].setPreferableTarget(o.target);
          nets[k].enableFusion(o.fusion);
        }
        double w0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
        nets[k].setInput(blob);
        // Every output, as vigil asks for (forward() alone skips the wh head).
        std::vector<cv::Mat> all;
        nets[k].forward(all, nets[k].getUnconnectedOutLayersNames());
        outs[k] = all[0].clone();
        if (i >= 0) {
          wall[k].push_back(now_ms(CLOCK_MONOTONIC) - w0);
          cpu[k].push_back(now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0);
        }
      } catch (const std::exception &e) {
        errors[k] = e.what();
      }
    }
  }
  for (int k = 0; k < count; k++) {
    if (!errors[k].empty()) {
      printf("{\"options\": \"%s\", \"error\": \"%s\"}\n", sets[k].name, errors[k].c_str());
      continue;
    }
    double diff = outs[0].empty() ? -1 : cv::norm(outs[k], outs[0], cv::NORM_INF);
    printf("{\"options\": \"%s\", \"size\": %d, \"n\": %d, \"median_wall_ms\": %.1f, "
           "\"median_cpu_ms\": %.1f, \"max_abs_diff\": %.2g}\n",
           sets[k].name, size, n, median(wall[k]), median(cpu[k]), diff);
  }
  return 0;
}
