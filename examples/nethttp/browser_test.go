package main

import (
	"testing"

	"github.com/parlogin/parlogin/examples/internal/interop"
)

func TestBrowserQuery(t *testing.T)    { interop.BrowserLoginLogout(t, app, "query") }
func TestBrowserFormPost(t *testing.T) { interop.BrowserLoginLogout(t, app, "form_post") }
func TestBrowserTwoTabs(t *testing.T)  { interop.BrowserTwoTabs(t, app) }
