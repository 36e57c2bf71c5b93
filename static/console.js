// The console's only script of its own (the Content-Security-Policy allows no inline script or handler).
// A form with data-confirm="question" is sent only once the question is answered OK.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset ? event.target.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
