// amp demo site: posts comments through the JSON API with the session's CSRF token.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("comment-form");
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (!form || !meta) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = form.elements.text.value.trim();
    if (!text) return;
    const res = await fetch(`/api/articles/${form.dataset.articleId}/comments`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": meta.content },
      body: JSON.stringify({ text }),
    });
    if (!res.ok) {
      alert(`Could not post the comment (${res.status}).`);
      return;
    }
    const comment = await res.json();
    const li = document.createElement("li");
    li.id = `comment-${comment.id}`;
    const by = document.createElement("span");
    by.className = "by";
    by.textContent = `${comment.author}:`;
    li.append(by, ` ${comment.text}`);
    document.getElementById("comments").append(li);
    form.reset();
  });
});
