// The course website's own script (tools/book/conf.py).
//
// 1. Alt text for stored widgets: the ipywidgets HTML manager draws an explorer's saved picture as an
//    <img> without alt text; the wrapper around it carries the cell's description (data-alt), copied here
//    onto each of its images as they appear.
// 2. Printing (make pdf, or the browser's Print): the folded answers leave the text and become an answer
//    section at the end of the chapter, numbered, each question pointing to its answer; each figure's
//    description (its alt text) is printed under it, where a reader of the paper or the PDF finds it.
// 3. The ipywidgets HTML manager typesets a widget's label with MathJax 2's MathJax.Hub.Queue; the site
//    uses MathJax 3, so MathJax.Hub is given that one call, made with MathJax 3's typesetPromise.
// 4. The sidebar buttons: the theme's scripts (pydata-sphinx-theme 0.20, sphinx-book-theme 1.4) listen on the
//    first .primary-toggle / .secondary-toggle of the page, a hidden one in the navigation bar, while the
//    reader sees and clicks the one above the article (pydata-sphinx-theme issue #2451). A click on any
//    other toggle is passed on to the first, so the menus open on a phone and close on a wide screen.
"use strict";

function courseForwardSidebarToggles() {
  [".primary-toggle", ".secondary-toggle"].forEach((selector) => {
    const [first, ...others] = document.querySelectorAll(selector);
    others.forEach((button) => button.addEventListener("click", (event) => {
      event.preventDefault();
      event.stopPropagation();
      first.click();
    }));
  });
}

(function courseMathJaxHub() {
  const hub = { Queue: (job) => {
    const element = Array.isArray(job) ? job[2] : null;
    if (element && window.MathJax.typesetPromise) window.MathJax.typesetPromise([element]);
  } };
  const mj = window.MathJax;
  if (mj && mj.version) {
    mj.Hub = mj.Hub || hub;  // MathJax 3 has started already
  } else if (mj) {
    // Sphinx's configuration object: MathJax 3 replaces it when it starts, then calls startup.ready.
    mj.startup = Object.assign({}, mj.startup, { ready() {
      window.MathJax.startup.defaultReady();
      window.MathJax.Hub = window.MathJax.Hub || hub;
    } });
  }
})();

function courseLabelWidgetImages(root) {
  root.querySelectorAll(".widget-figure[data-alt]").forEach((figure) => {
    figure.querySelectorAll("img:not([alt])").forEach((img) => {
      img.setAttribute("alt", figure.dataset.alt);
    });
  });
}

function courseDescribeFigures() {
  // On paper there is no alt text to hover or read aloud: each figure's description is printed under it,
  // inside the figure's output block, which the print style keeps on one page.
  const article = document.querySelector("article.bd-article") || document.querySelector("main");
  article.querySelectorAll("img[alt]").forEach((img) => {
    const text = img.getAttribute("alt").trim();
    if (!text) return;
    const block = img.closest(".widget-figure, .cell_output") || img.parentElement;
    const already = Array.from(block.querySelectorAll("p.print-alt")).some((p) => p.dataset.alt === text);
    if (already) return;
    const caption = document.createElement("p");
    caption.className = "print-alt";
    caption.dataset.alt = text;
    caption.textContent = `Figure: ${text}`;
    block.appendChild(caption);
  });
}

const COURSE_PRINT_WIDTH = 600;  // px: about the text's width on A4 or Letter paper, for the browser's Print

function courseFitWide(measured = false) {
  // A displayed formula wider than the text scrolls sideways on screen; on paper it would be cut off at
  // the margin (MathJax clips it), so the print style shrinks it to fit (--print-zoom). With measured, the
  // page is already laid out at the paper's width (make pdf does that) and each formula's own box is the
  // room it has; otherwise the room is COURSE_PRINT_WIDTH. Tables need no zoom: their text wraps in print.
  document.querySelectorAll("div.math").forEach((el) => {
    const math = el.querySelector("mjx-math");
    if (!math) return;
    el.classList.remove("print-fit");
    const wide = math.getBoundingClientRect().width;
    const room = measured ? el.clientWidth - 4 : COURSE_PRINT_WIDTH;
    if (wide > room) {
      el.classList.add("print-fit");
      el.style.setProperty("--print-zoom", (room / wide).toFixed(3));
    }
  });
}

function coursePrepareForPrint(measured = false) {
  courseFitWide(measured);
  courseDescribeFigures();
  courseCollectAnswers();
}

function courseCollectAnswers() {
  if (document.querySelector("section.print-answers")) return;
  const article = document.querySelector("article.bd-article") || document.querySelector("main");
  const answers = Array.from(article.querySelectorAll("details.answer"));
  if (answers.length === 0) return;
  const section = document.createElement("section");
  section.className = "print-answers";
  const heading = document.createElement("h2");
  heading.textContent = "Answers";
  section.appendChild(heading);
  answers.forEach((details, i) => {
    const n = i + 1;
    const ref = document.createElement("a");
    ref.className = "answer-ref";
    ref.href = `#print-answer-${n}`;
    ref.id = `print-answer-ref-${n}`;
    ref.textContent = `Answer ${n}: in the Answers section at the end of the chapter.`;
    details.parentNode.insertBefore(ref, details);
    const body = document.createElement("div");
    body.className = "answer-body";
    body.id = `print-answer-${n}`;
    const title = document.createElement("p");
    title.innerHTML = `<strong>Answer ${n}</strong>`;
    body.appendChild(title);
    Array.from(details.childNodes).forEach((child) => {
      if (child.nodeName !== "SUMMARY") body.appendChild(child.cloneNode(true));
    });
    section.appendChild(body);
  });
  article.appendChild(section);
}

// 5. Search snippets: Sphinx's search quotes the start of a page's main part, which here begins with the
//    header's buttons, the printed contents and the run-it-yourself note; they are left out of the quote.
function courseCleanSearchSnippets() {
  if (typeof Search === "undefined" || !Search.htmlToText || Search.courseClean) return;
  const original = Search.htmlToText;
  Search.htmlToText = (htmlString, anchor) => {
    const doc = new DOMParser().parseFromString(htmlString, "text/html");
    doc.querySelectorAll(".bd-header-article, .bd-sidebar-secondary, .onlyprint, .run-locally, .prev-next-area")
      .forEach((el) => el.remove());
    return original(doc.documentElement.outerHTML, anchor);
  };
  Search.courseClean = true;
}

document.addEventListener("DOMContentLoaded", () => {
  courseCleanSearchSnippets();
  courseForwardSidebarToggles();
  courseLabelWidgetImages(document);
  new MutationObserver(() => courseLabelWidgetImages(document))
    .observe(document.body, { childList: true, subtree: true });
});
window.addEventListener("beforeprint", () => coursePrepareForPrint());
