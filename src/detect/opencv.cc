// OpenCV behind a C API (opencv.h): the DNN module runs ONNX models, the
// objdetect module's HOG finds people. The only C++ in vigil; exceptions stop
// here and become error messages.
#include "detect/opencv.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

struct VigilCvNet {
  cv::dnn::Net net;
  // The last forward pass's outputs, kept: the next pass writes into the
  // same memory rather than new pages (allocation and page faults were a
  // quarter of an inference's time in perf), and the caller reads them
  // where they are.
  std::vector<cv::Mat> outs;
};

struct VigilCvHog {
  cv::HOGDescriptor hog;
};

static void set_error(char **error, const char *what)
{
  if (error)
    *error = strdup(what);
}

extern "C" VigilCvNet *vigil_cv_net_load(const char *path, char **error)
{
  try {
    auto *n = new VigilCvNet;
    n->net = cv::dnn::readNetFromONNX(path);
    if (n->net.empty()) {
      delete n;
      set_error(error, "the model has no layers");
      return nullptr;
    }
    n->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    n->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    return n;
  } catch (const std::exception &e) {
    set_error(error, e.what());
    return nullptr;
  }
}

extern "C" void vigil_cv_net_free(VigilCvNet *net)
{
  delete net;
}

extern "C" int vigil_cv_net_forward(VigilCvNet *net, const float *input, int h, int w,
                                    const char *const *names, int n, const float **outputs,
                                    int (*dims)[4], char **error)
{
  try {
    int shape[4] = {1, 3, h, w};
    // The blob borrows @input: setInput copies it into the network.
    cv::Mat blob(4, shape, CV_32F, const_cast<float *>(input));
    net->net.setInput(blob);
    std::vector<cv::String> out_names(names, names + n);
    net->net.forward(net->outs, out_names);
    for (int i = 0; i < n; i++) {
      if (!net->outs[i].isContinuous())
        net->outs[i] = net->outs[i].clone();
      const cv::Mat &m = net->outs[i];
      for (int d = 0; d < 4; d++)
        dims[i][d] = 1;
      int nd = m.dims;
      for (int d = 0; d < nd && d < 4; d++)
        dims[i][4 - std::min(nd, 4) + d] = m.size[d];
      outputs[i] = m.ptr<float>();
    }
    return 0;
  } catch (const std::exception &e) {
    set_error(error, e.what());
    return -1;
  }
}

extern "C" void vigil_cv_set_threads(int n)
{
  cv::setNumThreads(n);
}

extern "C" VigilCvHog *vigil_cv_hog_new(void)
{
  auto *h = new VigilCvHog;
  h->hog.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
  return h;
}

extern "C" void vigil_cv_hog_free(VigilCvHog *hog)
{
  delete hog;
}

extern "C" VigilCvRect *vigil_cv_hog_detect(VigilCvHog *hog, const uint8_t *rgb, int width,
                                            int height, int *n, char **error)
{
  try {
    cv::Mat img(height, width, CV_8UC3, const_cast<uint8_t *>(rgb));
    cv::Mat gray;
    cv::cvtColor(img, gray, cv::COLOR_RGB2GRAY);
    std::vector<cv::Rect> found;
    std::vector<double> weights;
    hog->hog.detectMultiScale(gray, found, weights, 0, cv::Size(8, 8), cv::Size(), 1.05, 2.0,
                              false);
    *n = static_cast<int>(found.size());
    auto *out = static_cast<VigilCvRect *>(calloc(found.size() + 1, sizeof(VigilCvRect)));
    for (size_t i = 0; i < found.size(); i++)
      out[i] = {found[i].x, found[i].y, found[i].width, found[i].height,
                i < weights.size() ? weights[i] : 0.0};
    return out;
  } catch (const std::exception &e) {
    set_error(error, e.what());
    return nullptr;
  }
}
