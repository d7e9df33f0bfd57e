// Draws every <pre class="mermaid"> block, in colours that suit mdbook's light or dark theme.
(() => {
  const darkThemes = ["coal", "navy", "ayu"];
  const isDark = darkThemes.some((theme) => document.documentElement.classList.contains(theme));
  mermaid.initialize({ startOnLoad: true, theme: isDark ? "dark" : "default" });
})();
