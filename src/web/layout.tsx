import type { PropsWithChildren } from "@kitajs/html";
import type { PageContext } from "./page.ts";

function Nav({ page }: { page: PageContext }) {
  const user = page.user;
  const links =
    user?.role === "admin"
      ? [
          // Short labels: the menu, the name and "Log out" fit one line at 1280 px.
          ["/admin", "Dashboard"],
          ["/admin/students?status=pending", "Approvals"],
          ["/admin/students?status=approved", "Students"],
          ["/admin/jobs", "Jobs"],
          ["/admin/announcements", "Announcements"],
          ["/admin/sms", "SMS"],
          ["/admin/audit", "Audit"],
        ]
      : user?.role === "student"
        ? [
            ["/student", "Dashboard"],
            ["/student/jobs", "Jobs"],
            ["/student/applications", "My applications"],
            ["/student/profile", "My profile"],
          ]
        : [
            ["/login", "Log in"],
            ["/register", "Register"],
          ];
  const linkItems = links.map(([href, label]) => (
    <li>
      <a href={href} aria-current={page.path === href ? "page" : undefined} safe>
        {label}
      </a>
    </li>
  ));
  const account = user
    ? [
        ...(user.role === "admin"
          ? [
              ["/admin/admins", "Admins"],
              ["/admin/limits", "Limits"],
            ]
          : []),
        [`/${user.role}/password`, "Change password"],
      ]
    : [];
  const logout = (
    <button type="submit" class="link">
      Log out
    </button>
  );
  // Two renderings of one menu, one shown at a time by app.css: the line across the top on a
  // wide screen, and on a phone (40rem and less) a "Menu" that opens it, so the header stays one
  // line (issue 21: three lines, 150 px). A <details> opens without JavaScript.
  return (
    <nav class="nav" aria-label="Main">
      <a class="brand" href="/">
        Placement Portal
      </a>
      <ul class={user ? "nav-links with-menu" : "nav-links"}>{linkItems}</ul>
      {user ? (
        <form method="post" action="/logout" class="logout">
          <CsrfField token={page.csrfToken} />
          <span class="who" title={user.fullName ?? user.email} safe>
            {user.fullName ?? user.email}
          </span>
          {account.map(([href, label]) => (
            <a href={href} safe>
              {label}
            </a>
          ))}
          {logout}
        </form>
      ) : null}
      {user ? (
        <details class="nav-menu">
          <summary>Menu</summary>
          <div class="nav-menu-panel">
            <ul>{linkItems}</ul>
            <form method="post" action="/logout" class="nav-menu-account">
              <CsrfField token={page.csrfToken} />
              <p class="who" safe>
                {user.fullName ?? user.email}
              </p>
              <ul>
                {account.map(([href, label]) => (
                  <li>
                    <a href={href} safe>
                      {label}
                    </a>
                  </li>
                ))}
              </ul>
              {logout}
            </form>
          </div>
        </details>
      ) : null}
    </nav>
  );
}

export function CsrfField({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

export function Layout({
  page,
  title,
  children,
}: PropsWithChildren<{ page: PageContext; title: string }>) {
  return (
    <>
      {"<!doctype html>"}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title safe>{title} · Placement Portal</title>
          <link rel="stylesheet" href="/assets/app.css" />
          <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
        </head>
        <body>
          <header>
            <Nav page={page} />
          </header>
          <main>
            {page.user?.role === "admin"
              ? page.smsNotices.map((notice) => (
                  <div class="banner" role="status">
                    <span safe>{notice.text}</span>
                    {notice.link ? (
                      <>
                        {" "}
                        <a href={notice.link.href} safe>
                          {notice.link.label}
                        </a>
                      </>
                    ) : null}
                    {notice.resume ? (
                      <form method="post" action="/admin/sms/resume" class="inline">
                        <CsrfField token={page.csrfToken} />
                        <input type="hidden" name="next" value={page.path} />
                        <button type="submit">Resume sending</button>
                      </form>
                    ) : null}
                  </div>
                ))
              : null}
            {page.flash.map((f) => (
              <p
                class={`flash flash-${f.kind}`}
                role={f.kind === "error" ? "alert" : "status"}
                safe
              >
                {f.message}
              </p>
            ))}
            <h1 safe>{title}</h1>
            {children}
          </main>
        </body>
      </html>
    </>
  );
}
